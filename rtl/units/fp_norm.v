// fp_norm: leading-zero normalization, the shared front of every float rounding step.
//
// Parameters: W (data width), CW (count width; needs 2^(CW-1) < W and 2^CW > W - 1)
// Ports
//   x    input (unsigned)
//   y    x shifted left until y[W-1] = 1 (combinational); 0 when x = 0
//   lz   the number of leading zeros of x (the shift applied); 2^CW - 1 when x = 0
// Built as CW shift stages (2^(CW-1), ..., 2, 1): a stage shifts when the top bits it would
// discard are all zero, so the stage decisions are the bits of the count.
module fp_norm #(
    parameter integer W  = 48,
    parameter integer CW = 6
) (
    input  wire [ W-1:0] x,
    output wire [ W-1:0] y,
    output wire [CW-1:0] lz
);
  // st holds the CW + 1 intermediate values: stage i reads slice i, writes slice i + 1.
  // split_var: Verilator schedules the slices separately (otherwise UNOPTFLAT: one vector
  // seen as a combinational loop); yosys ignores the comment.
  wire [W*(CW+1)-1:0] st  /*verilator split_var*/;
  assign st[W-1:0] = x;
  genvar i;
  generate
    for (i = 0; i < CW; i = i + 1) begin : g_stage
      localparam integer SH = 1 << (CW - 1 - i);
      wire [W-1:0] cur = st[W*i+:W];
      wire zero = ~|cur[W-1-:SH];
      assign lz[CW-1-i] = zero;
      assign st[W*(i+1)+:W] = zero ? {cur[W-1-SH:0], {SH{1'b0}}} : cur;
    end
  endgenerate
  assign y = st[W*CW+:W];
endmodule
