// systolic_array: a weight-stationary ROWS x COLS array of int8 x int8 PEs with ACC_W-bit
// (default 32, wrapping) partial sums flowing down the columns, with its own input skew and
// output deskew, so the ports see one unskewed vector per token. WBANKS (1, the default, or 2):
// 2 gives every PE a second weight register (double-buffered weights), so the next tile's
// weights can be loaded while the current tile's tokens stream through.
//
// Computes, for one tile of the GEMM Y[m, n] = sum_k X[m, k] * W[n, k]:
//   y[m][c] = psum_in[m][c] + sum_{r < ROWS} x[m][r] * w[b][r][c]   (mod 2^ACC_W)
// PE (r, c) holds w[b][r][c] = W[n0 + c, k0 + r] in bank b (b = 0 when WBANKS = 1);
// activations enter row r from the left and move right one PE per cycle; partial sums enter
// column c at the top and move down one PE per cycle.
//
// Ports (all sampled at the rising edge of clk; rst synchronous, active high, clears every
// register including the weights of both banks)
//   w_load    1: weight load cycle. Every column shifts the weights of bank w_bank down one row
//             and row 0 takes w_in; the other bank keeps its weights. Protocol: ROWS
//             consecutive load cycles, row ROWS-1's weights first (cycle i loads the row
//             ROWS-1-i), only while no token in flight uses that bank (WBANKS = 1: the array
//             is empty, after reset or after the drain of the previous tile).
//   w_bank    the bank a load cycle shifts (WBANKS = 2; ignored when WBANKS = 1)
//   w_in      column c's weight in w_in[8c +: 8] (int8)
//   x_valid   1: this cycle presents token m (the stream phase presents M tokens on M
//             consecutive cycles, m = 0, 1, ...)
//   x_bank    the bank whose weights token m is multiplied by (WBANKS = 2; ignored when
//             WBANKS = 1). It travels with the token's activations (row r's skew delays it r
//             cycles, then it moves one PE right per cycle next to x), so every PE picks the
//             bank of the token it multiplies, and tokens of two tiles may be in flight at once.
//   x_in      row r's activation x[m][r] in x_in[8r +: 8] (int8), unskewed: the array delays
//             row r by r cycles itself
//   psum_in   column c's starting partial sum for the token, psum_in[ACC_W c +: ACC_W]: 0 for
//             the first K tile, the previous K tile's y for the next ones (delayed c cycles
//             inside, with the token's valid bit). The double-buffered protocol keeps it 0 and
//             adds the k-tiles' results where they leave the array.
//   y_valid   1: y_out holds the result of the next token in order (registered)
//   y_out     column c's result in y_out[ACC_W c +: ACC_W] (registered, deskewed: all columns
//             of one token together)
// Timing: a token presented at stream cycle m (counting the cycles with x_valid from 0) is on
// y_out after the rising edge that ends cycle m + ROWS + COLS - 2 (ROWS - 1 + c edges down to
// the bottom of column c, then COLS - 1 - c deskew edges). So a tile of M tokens takes
// ROWS load cycles, M stream cycles and ROWS + COLS - 2 drain cycles after the last token.
// With WBANKS = 2, PE (r, c) multiplies token m by its bank's weight in stream cycle m + r + c:
// the last use of a tile's bank is cycle M + ROWS + COLS - 3, whose edge puts the tile's last
// result on y_out. A load changes its bank at the edge that ends its first cycle, so a load of
// that bank may start in that same cycle at the earliest; the controller (WsDoubleBufferedSchedule)
// starts it one cycle later, when it sees the last result.
//
// Model: quasar::units::SystolicWsArray (cycle for cycle, the same ports) and the protocol
// drivers run_systolic_ws (closed form systolic_ws_timing) and run_systolic_ws_db (two banks,
// rules WsDoubleBufferedSchedule / systolic_ws_db_timing) in models/units/systolic_ws.hpp.
//
// Pipelined PEs (PE_STAGES = L > 1): each PE registers its partial sum L times (the add, then
// L - 1 more registers), so a partial sum takes L cycles a row; row r's input skew is r L (and
// the token's bank bit with it), so the activation still meets its partial sum at PE (r, c), in
// cycle m + r L + c, and the activations still move right one PE a cycle. The results come out
// (L - 1) ROWS cycles later: a token presented at stream cycle m shows after the edge ending
// cycle m + L ROWS + COLS - 2, so the drain is L ROWS + COLS - 2. The weights load as before.
// This is the pipeline the model retimes (units::SystolicWsArray keeps one stage and delays its
// outputs by (L - 1) ROWS: equal at the ports, tests/rtl and tests/tile check it).
module systolic_array #(
    parameter integer ROWS   = 4,
    parameter integer COLS   = 4,
    parameter integer ACC_W  = 32,
    parameter integer WBANKS = 1,
    // The PEs (pe_mul): 0 int8 x int8; 1 / 2 dint4 (value set A / B) x int8; 3 E2M1 x E4M3;
    // 1-3: 4-bit weight registers holding the codes (w_in[8c +: 4]; its high nibble is not read).
    parameter integer PE     = 0,
    // Register stages L of a PE's multiply-add on the partial-sum path (arch pe_stages; a MAC
    // that cannot finish in one clock): see "Pipelined PEs" above.
    parameter integer PE_STAGES = 1
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   w_load,
    // With WBANKS = 1 there is one bank: the bank selects are not read (ports kept so every
    // instance has the same interface).
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                   w_bank,
    input  wire                   x_bank,
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */  // (dint4 PEs: the codes' high nibbles)
    input  wire [     COLS*8-1:0] w_in,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                   x_valid,
    input  wire [     ROWS*8-1:0] x_in,
    input  wire [COLS*ACC_W-1:0]  psum_in,
    output wire                   y_valid,
    output wire [COLS*ACC_W-1:0]  y_out
);
  localparam integer N_PE = ROWS * COLS;
  // A token's activation as it moves through the array: x (8 bits), and with two banks its
  // bank bit above it (bit 8).
  localparam integer XW = WBANKS == 2 ? 9 : 8;
  // A weight register's bits: the int8 code, or the dint4 code.
  localparam integer WW = PE == 0 ? 8 : 4;
  localparam integer PW = PE == 3 ? 23 : 16;  // a product's bits (pe_mul)

  // Per-PE state, flattened with index r * COLS + c:
  //   w_q    the PE's weight registers, bank b at 8 * (b * N_PE + I)
  //   x_q    the activation (and bank bit) the PE multiplies this cycle (column 0: the skewed
  //          input; other columns: a register holding what the left neighbour multiplied last
  //          cycle)
  //   ps_q   the PE's partial-sum register, v_q its valid bit
  wire [WBANKS*N_PE*WW-1:0] w_q;
  wire [N_PE*XW-1:0] x_q;
  wire [N_PE*ACC_W-1:0] ps_q;
  wire [N_PE-1:0] v_q;
  // Column tops: psum_in and x_valid delayed c cycles for column c.
  wire [COLS*ACC_W-1:0] ps_top;
  wire [COLS-1:0] v_top;
  // Column bottoms after the deskew.
  wire [COLS-1:0] v_out;
  // Row r's token at the left edge, before the skew.
  wire [ROWS*XW-1:0] x_left;

  genvar r, c;
  generate
    for (r = 0; r < ROWS; r = r + 1) begin : g_left
      if (WBANKS == 2) begin : g_bank
        assign x_left[XW*r+:XW] = {x_bank, x_in[8*r+:8]};
      end else begin : g_nobank
        assign x_left[XW*r+:XW] = x_in[8*r+:8];
      end
    end
    // Input skew: row r's token delayed r cycles.
    for (r = 0; r < ROWS; r = r + 1) begin : g_skew
      if (r == 0) begin : g_direct
        assign x_q[0+:XW] = x_left[0+:XW];
      end else begin : g_delay
        delay_line #(
            .W(XW),
            .D(r * PE_STAGES)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  (x_left[XW*r+:XW]),
            .q  (x_q[XW*(r*COLS)+:XW])
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
        wire [ACC_W-1:0] ps_above;
        wire v_above;
        if (r == 0) begin : g_top
          assign ps_above = ps_top[ACC_W*c+:ACC_W];
          assign v_above = v_top[c];
        end else begin : g_inner
          assign ps_above = ps_q[ACC_W*(I-COLS)+:ACC_W];
          assign v_above = v_q[I-COLS];
        end
        if (c > 0) begin : g_x
          reg [XW-1:0] x_r;
          always @(posedge clk) begin
            if (rst) x_r <= {XW{1'b0}};
            else x_r <= x_q[XW*(I-1)+:XW];
          end
          assign x_q[XW*I+:XW] = x_r;
        end

        // The weight registers; w_mul is the weight this cycle's product uses.
        wire [WW-1:0] w_mul;
        genvar b;
        for (b = 0; b < WBANKS; b = b + 1) begin : g_bank
          localparam integer J = b * N_PE + I;
          wire [WW-1:0] w_above;
          wire shift;
          if (r == 0) begin : g_top
            assign w_above = w_in[8*c+:WW];
          end else begin : g_inner
            assign w_above = w_q[WW*(J-COLS)+:WW];
          end
          if (WBANKS == 2) begin : g_sel
            assign shift = w_load && (b == 1 ? w_bank : !w_bank);
          end else begin : g_one
            assign shift = w_load;
          end
          reg [WW-1:0] w_r;
          always @(posedge clk) begin
            if (rst) w_r <= {WW{1'b0}};
            else if (shift) w_r <= w_above;
          end
          assign w_q[WW*J+:WW] = w_r;
        end
        if (WBANKS == 2) begin : g_mul2
          assign w_mul = x_q[XW*I+8] ? w_q[WW*(N_PE+I)+:WW] : w_q[WW*I+:WW];
        end else begin : g_mul1
          assign w_mul = w_q[WW*I+:WW];
        end

        reg [ACC_W-1:0] ps_r;
        reg v_r;
        wire signed [PW-1:0] prod;
        pe_mul #(
            .PE(PE)
        ) mul (
            .w(w_mul),
            .x(x_q[XW*I+:8]),
            .p(prod)
        );
        wire [ACC_W-1:0] prod_x = {{(ACC_W - PW) {prod[PW-1]}}, prod};
        always @(posedge clk) begin
          if (rst) begin
            ps_r <= {ACC_W{1'b0}};
            v_r  <= 1'b0;
          end else begin
            ps_r <= ps_above + prod_x;
            v_r  <= v_above;
          end
        end
        if (PE_STAGES > 1) begin : g_stages
          delay_line #(
              .W(ACC_W + 1),
              .D(PE_STAGES - 1)
          ) dl (
              .clk(clk),
              .rst(rst),
              .d  ({v_r, ps_r}),
              .q  ({v_q[I], ps_q[ACC_W*I+:ACC_W]})
          );
        end else begin : g_one
          assign ps_q[ACC_W*I+:ACC_W] = ps_r;
          assign v_q[I] = v_r;
        end
      end
    end
  endgenerate

  // Every column carries the same valid bit (skew and deskew cancel): all must agree.
  assign y_valid = &v_out;
endmodule
