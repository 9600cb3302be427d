// lane_positions: where N + 1 consecutive elements of a row-major block of `cols` columns sit,
// from (r0, c0), or from (0, 0) on `restart`: position j (row r[32 j +: 32], column
// c[32 j +: 32]) is j elements on; position N is where the next batch starts. The tile's lanes
// that work through a block a batch a cycle place their elements with it: the edge's rescale and
// epilogue lanes over a tile's outputs (token-major), the dequantizers over a tile's codes (in
// the load's row order). Combinational.
module lane_positions #(
    parameter integer N = 4
) (
    input  wire                restart,
    input  wire [        31:0] r0,
    input  wire [        31:0] c0,
    input  wire [        31:0] cols,
    output wire [32*(N+1)-1:0] r,
    output wire [32*(N+1)-1:0] c
);
  genvar j;
  generate
    for (j = 0; j <= N; j = j + 1) begin : g_pos
      wire [31:0] rr, cc;
      if (j == 0) begin : g_first
        assign rr = restart ? 32'd0 : r0;
        assign cc = restart ? 32'd0 : c0;
      end else begin : g_next
        wire wrap = g_pos[j-1].cc + 1 == cols;
        assign rr = g_pos[j-1].rr + (wrap ? 32'd1 : 32'd0);
        assign cc = wrap ? 32'd0 : g_pos[j-1].cc + 1;
      end
      assign r[32*j+:32] = rr;
      assign c[32*j+:32] = cc;
    end
  endgenerate
endmodule
