// delay_line: D >= 1 registers in a chain (q = d delayed by D cycles), synchronous reset to 0.
// The skew and deskew triangles of systolic_array are made of these.
module delay_line #(
    parameter integer W = 8,
    parameter integer D = 1
) (
    input  wire         clk,
    input  wire         rst,
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
  reg [W*D-1:0] chain;
  generate
    if (D == 1) begin : g_one
      always @(posedge clk) begin
        if (rst) chain <= {W * D{1'b0}};
        else chain <= d;
      end
    end else begin : g_many
      always @(posedge clk) begin
        if (rst) chain <= {W * D{1'b0}};
        else chain <= {chain[W*(D-1)-1:0], d};
      end
    end
  endgenerate
  assign q = chain[W*D-1-:W];
endmodule
