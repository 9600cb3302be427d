// systolic_array: a weight-stationary ROWS x COLS array of int8 x int8 PEs with ACC_W-bit
// (default 32, wrapping) partial sums flowing down the columns, with its own input skew and
// output deskew, so the ports see one unskewed vector per token.
//
// Computes, for one tile of the GEMM Y[m, n] = sum_k X[m, k] * W[n, k]:
//   y[m][c] = psum_in[m][c] + sum_{r < ROWS} x[m][r] * w[r][c]   (mod 2^ACC_W)
// PE (r, c) holds w[r][c] = W[n0 + c, k0 + r]; activations enter row r from the left and move
// right one PE per cycle; partial sums enter column c at the top and move down one PE per cycle.
//
// Ports (all sampled at the rising edge of clk; rst synchronous, active high, clears every
// register including the weights)
//   w_load    1: weight load cycle. Every column shifts its weights down one row and row 0
//             takes w_in. Protocol: ROWS consecutive load cycles, row ROWS-1's weights first
//             (cycle i loads the row ROWS-1-i), only while no token is in flight (the array
//             is empty: after reset or after the drain of the previous tile).
//   w_in      column c's weight in w_in[8c +: 8] (int8)
//   x_valid   1: this cycle presents token m (the stream phase presents M tokens on M
//             consecutive cycles, m = 0, 1, ...)
//   x_in      row r's activation x[m][r] in x_in[8r +: 8] (int8), unskewed: the array delays
//             row r by r cycles itself
//   psum_in   column c's starting partial sum for the token, psum_in[ACC_W c +: ACC_W]: 0 for
//             the first K tile, the previous K tile's y for the next ones (delayed c cycles
//             inside, with the token's valid bit)
//   y_valid   1: y_out holds the result of the next token in order (registered)
//   y_out     column c's result in y_out[ACC_W c +: ACC_W] (registered, deskewed: all columns
//             of one token together)
// Timing: a token presented at stream cycle m (counting the cycles with x_valid from 0) is on
// y_out after the rising edge that ends cycle m + ROWS + COLS - 2 (ROWS - 1 + c edges down to
// the bottom of column c, then COLS - 1 - c deskew edges). So a tile of M tokens takes
// ROWS load cycles, M stream cycles and ROWS + COLS - 2 drain cycles after the last token.
//
// Model: quasar::units::SystolicWsArray (cycle for cycle, the same ports) and the protocol
// driver run_systolic_ws with its closed-form phase counts systolic_ws_timing
// (models/units/systolic_ws.hpp).
module systolic_array #(
    parameter integer ROWS  = 4,
    parameter integer COLS  = 4,
    parameter integer ACC_W = 32
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   w_load,
    input  wire [     COLS*8-1:0] w_in,
    input  wire                   x_valid,
    input  wire [     ROWS*8-1:0] x_in,
    input  wire [COLS*ACC_W-1:0]  psum_in,
    output wire                   y_valid,
    output wire [COLS*ACC_W-1:0]  y_out
);
  localparam integer N_PE = ROWS * COLS;

  // Per-PE state, flattened with index r * COLS + c:
  //   w_q    the PE's weight register
  //   x_q    the activation the PE multiplies this cycle (column 0: the skewed input; other
  //          columns: a register holding what the left neighbour multiplied last cycle)
  //   ps_q   the PE's partial-sum register, v_q its valid bit
  wire [N_PE*8-1:0] w_q;
  wire [N_PE*8-1:0] x_q;
  wire [N_PE*ACC_W-1:0] ps_q;
  wire [N_PE-1:0] v_q;
  // Column tops: psum_in and x_valid delayed c cycles for column c.
  wire [COLS*ACC_W-1:0] ps_top;
  wire [COLS-1:0] v_top;
  // Column bottoms after the deskew.
  wire [COLS-1:0] v_out;

  genvar r, c;
  generate
    // Input skew: row r's activation delayed r cycles.
    for (r = 0; r < ROWS; r = r + 1) begin : g_skew
      if (r == 0) begin : g_direct
        assign x_q[0+:8] = x_in[0+:8];
      end else begin : g_delay
        delay_line #(
            .W(8),
            .D(r)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  (x_in[8*r+:8]),
            .q  (x_q[8*(r*COLS)+:8])
        );
      end
    end
    // Column tops: psum and valid delayed c cycles; bottoms: deskewed by COLS - 1 - c.
    for (c = 0; c < COLS; c = c + 1) begin : g_col
      if (c == 0) begin : g_top_direct
        assign ps_top[0+:ACC_W] = psum_in[0+:ACC_W];
        assign v_top[0] = x_valid;
      end else begin : g_top_delay
        delay_line #(
            .W(ACC_W + 1),
            .D(c)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  ({x_valid, psum_in[ACC_W*c+:ACC_W]}),
            .q  ({v_top[c], ps_top[ACC_W*c+:ACC_W]})
        );
      end
      if (c == COLS - 1) begin : g_out_direct
        assign y_out[ACC_W*c+:ACC_W] = ps_q[ACC_W*((ROWS-1)*COLS+c)+:ACC_W];
        assign v_out[c] = v_q[(ROWS-1)*COLS+c];
      end else begin : g_out_delay
        delay_line #(
            .W(ACC_W + 1),
            .D(COLS - 1 - c)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  ({v_q[(ROWS-1)*COLS+c], ps_q[ACC_W*((ROWS-1)*COLS+c)+:ACC_W]}),
            .q  ({v_out[c], y_out[ACC_W*c+:ACC_W]})
        );
      end
    end

    // The PEs.
    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_pe
        localparam integer I = r * COLS + c;
        wire [7:0] w_above;
        wire [ACC_W-1:0] ps_above;
        wire v_above;
        if (r == 0) begin : g_top
          assign w_above = w_in[8*c+:8];
          assign ps_above = ps_top[ACC_W*c+:ACC_W];
          assign v_above = v_top[c];
        end else begin : g_inner
          assign w_above = w_q[8*(I-COLS)+:8];
          assign ps_above = ps_q[ACC_W*(I-COLS)+:ACC_W];
          assign v_above = v_q[I-COLS];
        end
        if (c > 0) begin : g_x
          reg [7:0] x_r;
          always @(posedge clk) begin
            if (rst) x_r <= 8'd0;
            else x_r <= x_q[8*(I-1)+:8];
          end
          assign x_q[8*I+:8] = x_r;
        end

        reg [7:0] w_r;
        reg [ACC_W-1:0] ps_r;
        reg v_r;
        wire signed [15:0] prod = $signed(w_q[8*I+:8]) * $signed(x_q[8*I+:8]);
        wire [ACC_W-1:0] prod_x = {{(ACC_W - 16) {prod[15]}}, prod};
        always @(posedge clk) begin
          if (rst) begin
            w_r  <= 8'd0;
            ps_r <= {ACC_W{1'b0}};
            v_r  <= 1'b0;
          end else begin
            if (w_load) w_r <= w_above;
            ps_r <= ps_above + prod_x;
            v_r  <= v_above;
          end
        end
        assign w_q[8*I+:8] = w_r;
        assign ps_q[ACC_W*I+:ACC_W] = ps_r;
        assign v_q[I] = v_r;
      end
    end
  endgenerate

  // Every column carries the same valid bit (skew and deskew cancel): all must agree.
  assign y_valid = &v_out;
endmodule
