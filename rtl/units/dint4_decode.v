// dint4_decode: a 4-bit dint4 weight code -> {neg, denorm, mag} (combinational), the decode of
// spec section 1. The value is w2 = 2 * value = (neg ? -1 : 1) * (denorm ? 1 : 2 * mag).
//
// SET_B = 0: set A (default, `dint4`): two's complement int4 with 0111 = +0.5, 1001 = -0.5,
//            1000 unused (decodes as 0, valid = 0).
// SET_B = 1: set B (`dint4b`): sign-magnitude s|mmm, magnitude 000 read as 0.5.
//
// This table cannot include the C++ one (models/numerics/dint4.cpp, the single source of
// truth); tests/rtl proves the two equal for all 16 codes of both sets.
module dint4_decode #(
    parameter integer SET_B = 0
) (
    input  wire [3:0] code,
    output reg        neg,
    output reg        denorm,
    output reg  [2:0] mag,
    output reg        valid
);
  always @(*) begin
    valid = 1'b1;
    if (SET_B != 0) begin
      neg    = code[3];
      mag    = code[2:0];
      denorm = (code[2:0] == 3'd0);
    end else begin
      case (code)
        4'b0111: begin  // +0.5
          neg = 1'b0; denorm = 1'b1; mag = 3'd0;
        end
        4'b1001: begin  // -0.5
          neg = 1'b1; denorm = 1'b1; mag = 3'd0;
        end
        4'b1000: begin  // unused: 0, flagged
          neg = 1'b0; denorm = 1'b0; mag = 3'd0; valid = 1'b0;
        end
        default: begin  // plain int4: 0..6 and -6..-1 as sign and magnitude
          neg    = code[3];
          denorm = 1'b0;
          mag    = code[3] ? (3'd0 - code[2:0]) : code[2:0];
        end
      endcase
    end
  end
endmodule
