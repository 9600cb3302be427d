// popcount: the number of set bits of an N-bit vector (combinational). The block dot units count
// their invalid element codes with it (spec §4: invalid codes are reported per element).
//
// Parameters: N (vector width, >= 2: the zero-padding of a 1-bit count would be empty)
// Ports: x -> n (clog2(N + 1) bits, 0..N)
module popcount #(
    parameter integer N = 32
) (
    input  wire [             N-1:0] x,
    output reg  [$clog2(N+1)-1:0] n
);
  integer k;
  always @(*) begin
    n = 0;
    for (k = 0; k < N; k = k + 1) n = n + {{($clog2(N + 1) - 1) {1'b0}}, x[k]};
  end
endmodule
