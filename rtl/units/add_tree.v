// add_tree: the exact signed sum of N W-bit two's-complement values (combinational), as a
// balanced tree of adders: the block dot products of spec §5 sum 32 (or 16) lane products, and a
// tree keeps the depth at log2(N) adders where a chain would take N - 1.
//
// Parameters: N (number of values, >= 1), W (width of each)
// Ports
//   x   the N values packed, value k at x[W*k +: W]
//   s   their exact sum, W + clog2(N) bits (N values of W bits always fit)
// Built recursively: two subtrees of floor(N/2) and ceil(N/2) values, each exactly as wide as
// its own sum needs, so an adder is never wider than the partial sum it forms.
module add_tree #(
    parameter integer N = 32,
    parameter integer W = 16
) (
    input  wire        [             N*W-1:0] x,
    output wire signed [W+$clog2(N)-1:0] s
);
  generate
    if (N == 1) begin : g_leaf
      assign s = x;
    end else begin : g_node
      localparam integer NL = N / 2;
      localparam integer NH = N - NL;
      localparam integer WL = W + $clog2(NL);
      localparam integer WH = W + $clog2(NH);
      localparam integer WS = W + $clog2(N);
      wire signed [WL-1:0] sl;
      wire signed [WH-1:0] sh;
      add_tree #(
          .N(NL),
          .W(W)
      ) lo (
          .x(x[NL*W-1:0]),
          .s(sl)
      );
      add_tree #(
          .N(NH),
          .W(W)
      ) hi (
          .x(x[N*W-1:NL*W]),
          .s(sh)
      );
      // ceil(log2 N) = ceil(log2 ceil(N/2)) + 1: both subtree sums extend by at least one bit.
      assign s = {{(WS - WL) {sl[WL-1]}}, sl} + {{(WS - WH) {sh[WH-1]}}, sh};
    end
  endgenerate
endmodule
