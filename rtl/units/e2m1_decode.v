// e2m1_decode: an E2M1 (fp4) element code s.ee.m (bias 1, no inf/NaN) -> sign, a 2-bit
// significand and a left shift, with |value| * 2 = sig << sh (spec §5: E2M1 = a * 2^-1,
// a in {0, 1, 2, 3, 4, 6, 8, 12}). Every one of the 16 codes is valid.
//   ee = 0: a = m (subnormal; 0 or 1), sh = 0
//   ee > 0: a = (2 + m) << (ee - 1), i.e. sig = {1, m}, sh = ee - 1
// Model: quasar::elem_int(BlockElem::e2m1, code) (models/numerics/block_formats.hpp).
module e2m1_decode (
    input  wire [3:0] code,
    output wire       neg,
    output wire [1:0] sig,
    output wire [1:0] sh
);
  wire [1:0] e = code[2:1];
  assign neg = code[3];
  assign sig = {e != 2'd0, code[0]};
  assign sh  = (e == 2'd0) ? 2'd0 : e - 2'd1;
endmodule
