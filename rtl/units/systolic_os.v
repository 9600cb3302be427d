// systolic_os: an output-stationary ROWS x COLS array of int8 x int8 PEs, each with an ACC_W-bit
// (default 32, wrapping) accumulator, with its own input skew and output deskew, so the ports
// see one unskewed vector per reduction index k and one unskewed result row per cycle. ABANKS
// (1, the default, or 2): 2 gives every PE a second (shadow) register for its result
// (double-buffered accumulators), so the next tile can stream while this tile's results are
// unloaded.
//
// Computes, for one output tile (m-tile of up to ROWS tokens, n-tile of up to COLS channels,
// k-chunk of Kc reduction indices):
//   y[r][c] = sum_{k < Kc} x[r][k] * w[c][k]   (mod 2^ACC_W)
// PE (r, c) accumulates Y[m0 + r, n0 + c]. Activations X[m0 + r, k] enter row r from the left
// and move right one PE per cycle; weights W[n0 + c, k] enter column c at the top and move down
// one PE per cycle; so PE (r, c) multiplies index k in cycle k + r + c of the stream.
//
// Ports (all sampled at the rising edge of clk; rst synchronous, active high, clears every
// register)
//   valid     1: stream cycle, x_in / w_in carry reduction index k (k = 0, 1, ... on consecutive
//             cycles). A tile's Kc stream cycles must be consecutive. ABANKS = 1: a stream may
//             only start when the array is empty (after reset, or once the previous tile's last
//             row is on y_out). ABANKS = 2: see "Two banks" below. The valid bit travels with
//             the activations (row r delayed r, then one PE per cycle), so each PE knows when it
//             accumulates.
//   last      ABANKS = 2 (not read when ABANKS = 1): 1 on the stream cycle of the tile's last
//             index (k = Kc - 1), 0 on its other cycles. It travels with valid, so every PE
//             knows which of its products ends the tile.
//   x_in      row r's activation X[m0 + r, k] in x_in[8r +: 8] (int8), unskewed: the array
//             delays row r by r cycles itself
//   w_in      column c's weight W[n0 + c, k] in w_in[8c +: 8] (int8), unskewed (column c delayed
//             c cycles inside)
//   y_valid   1: y_out holds the next result row (registered)
//   y_out     column c's result in y_out[ACC_W c +: ACC_W] (registered, deskewed: one result row
//             per cycle, all columns together). Rows come out bottom first: row ROWS-1, then
//             ROWS-2, ..., row 0 (ROWS rows per tile, also the zero rows of a ragged m-tile);
//             tiles in the order they streamed.
//
// One bank (ABANKS = 1). Accumulate and unload: each PE has an accumulator acc and a bit h
// ("holds a sum of this tile"). A PE whose valid bit is 1 does acc <= (h ? acc : 0) + x * w,
// h <= 1 (so the first k of a tile starts from 0: no psum input). Column c unloads once its
// bottom PE has finished (h = 1 and valid = 0 at PE (ROWS-1, c); the bottom PE is the column's
// last to finish): then every PE of the column shifts down, acc <= acc of the PE above, h <= h
// above (0 at the top), and the bottom's {1, acc} enters the column's output line; after ROWS
// shifts the column's h bits are all 0 and the column stops. A PE that is neither accumulating
// nor shifting holds.
// Timing: with the stream in cycles 0 .. Kc-1, PE (r, c) accumulates in cycles
// r + c .. Kc-1 + r + c, column c shifts in cycles Kc + ROWS-1 + c + j (j = 0 .. ROWS-1), and
// the output line (COLS - c registers) shows row ROWS-1-j on y_out after the edge that ends
// cycle Kc + ROWS + COLS - 2 + j. So a tile takes Kc stream cycles and 2 ROWS + COLS - 2 drain
// cycles (from the end of the stream until the last row, row 0, is on y_out); no load phase.
//
// Two banks (ABANKS = 2). Each PE has the accumulator acc with its bit h, and a shadow register
// s with bits hs ("holds a result not yet unloaded") and u ("is being unloaded"). A PE whose
// valid bit is 1 does acc <= (h ? acc : 0) + x * w, h <= !last; on its tile's last product
// (valid and last) the same sum also goes to the shadow: s <= sum, hs <= 1, u <= 0. So the
// accumulator is free for the next tile's first product on the next cycle, and only the shadow
// registers unload. Column c unloads in every cycle its bottom PE holds a result (hs = 1 at PE
// (ROWS-1, c)). The PEs taking part (the column's "group") are those with u = 1; on the first
// such cycle of a tile (the bottom's u = 0) every PE with hs = 1. Each PE of the group takes the
// s of the PE above and whether it is in the group (hs <= u <= the above's group bit; 0 at the
// top), and the bottom's {1, s} enters the output line. So the group loses its top row every
// cycle, and results of the next tile, written above it with u = 0, stay where they are. A PE's
// own last product takes precedence over the unload (it writes s in the cycle it leaves the
// group, never earlier: see the rule below).
// Timing: per tile as with one bank. With the stream's last cycle E - 1 (E: its end), PE (r, c)
// writes s at the edge that ends cycle E-1 + r + c; column c unloads in cycles
// E + ROWS-1 + c + j (j = 0 .. ROWS-1), which empties PE (r, c) at the edge ending
// E + ROWS-1 + c + r; row ROWS-1-j is on y_out after the edge ending E + ROWS + COLS - 2 + j, the
// last (row 0) after E + 2 ROWS + COLS - 3. Rule: the next tile, whose stream ends at E', writes
// PE (r, c) at the edge ending E'-1 + r + c, so it needs E' >= E + ROWS (at every r and c alike;
// at equality the write and the emptying share an edge and the write wins). Streams never
// overlap (one x_in, one w_in). So a tile may stream once the previous stream is over, and its
// stream must end at least ROWS cycles after the previous one's: in steady state
// max(Kc, ROWS) cycles a tile (ROWS: y_out's one row a cycle) instead of Kc + 2 ROWS + COLS - 2;
// with E' = E + ROWS the rows of consecutive tiles leave back to back. Ending a stream earlier
// overwrites results of the previous tile that are still in its group (a test shows it).
// The single-bank protocol (stream, drain until ROWS rows are out) works unchanged on two banks,
// with `last` on each stream's final cycle.
//
// Model: quasar::units::SystolicOsArray (cycle for cycle, the same ports; acc_banks = ABANKS),
// the protocol drivers run_systolic_os (closed form systolic_os_timing) and run_systolic_os_db
// (two banks; rules OsDoubleBufferedSchedule / systolic_os_db_timing) in
// models/units/systolic_os.hpp.
module systolic_os #(
    parameter integer ROWS   = 4,
    parameter integer COLS   = 4,
    parameter integer ACC_W  = 32,
    parameter integer ABANKS = 1,
    // The PEs (pe_mul): 0 int8 x int8; 1 / 2 dint4 (value set A / B) x int8; 3 E2M1 x E4M3; whose weight
    // registers and column skew carry the 4-bit codes (w_in[8c +: 4]; the high nibble is not
    // read).
    parameter integer PE     = 0
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   valid,
    // With ABANKS = 1 a tile ends where its stream ends: `last` is not read (the port is kept so
    // every instance has the same interface).
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire                   last,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [     ROWS*8-1:0] x_in,
    /* verilator lint_off UNUSEDSIGNAL */  // (dint4 PEs: the codes' high nibbles)
    input  wire [     COLS*8-1:0] w_in,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                   y_valid,
    output wire [COLS*ACC_W-1:0]  y_out
);
  localparam integer N_PE = ROWS * COLS;
  localparam integer WW = PE == 0 ? 8 : 4;  // a weight register's bits (int8, or a 4-bit code)
  localparam integer PW = PE == 3 ? 23 : 16;  // a product's bits (pe_mul)

  // Per-PE state, flattened with index r * COLS + c:
  //   x_q, v_q  the activation the PE multiplies this cycle and its valid bit (column 0: the
  //             skewed input; other columns: a register holding what the left neighbour had)
  //   w_q       the weight the PE multiplies this cycle (row 0: the skewed input; other rows: a
  //             register holding what the PE above had)
  //   res_q     the register the unload shifts down (ABANKS = 1: the accumulator itself; 2: the
  //             shadow register), h_q its "holds a result" bit
  wire [N_PE*8-1:0] x_q;
  wire [N_PE-1:0] v_q;
  wire [N_PE*WW-1:0] w_q;
  wire [N_PE*PW-1:0] prod_q;  // each PE's product of this cycle's operands (both variants')
  wire [N_PE*ACC_W-1:0] res_q;
  wire [N_PE-1:0] h_q;
  // Column c unloads (shifts down) this cycle.
  wire [COLS-1:0] shift;
  // Column outputs after the output line.
  wire [COLS-1:0] v_out;

  genvar r, c;
  generate
    // Input skew: row r's {valid, activation} delayed r cycles.
    for (r = 0; r < ROWS; r = r + 1) begin : g_row_skew
      if (r == 0) begin : g_direct
        assign x_q[0+:8] = x_in[0+:8];
        assign v_q[0] = valid;
      end else begin : g_delay
        delay_line #(
            .W(9),
            .D(r)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  ({valid, x_in[8*r+:8]}),
            .q  ({v_q[r*COLS], x_q[8*(r*COLS)+:8]})
        );
      end
    end
    // Column skew of the weights (column c delayed c) and the output lines (COLS - c registers:
    // the deskew plus one output register, so y_valid and y_out are registered).
    for (c = 0; c < COLS; c = c + 1) begin : g_col
      localparam integer B = (ROWS - 1) * COLS + c;  // the column's bottom PE
      if (c == 0) begin : g_direct
        assign w_q[0+:WW] = w_in[0+:WW];
      end else begin : g_delay
        delay_line #(
            .W(WW),
            .D(c)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  (w_in[8*c+:WW]),
            .q  (w_q[WW*c+:WW])
        );
      end
      delay_line #(
          .W(ACC_W + 1),
          .D(COLS - c)
      ) out_line (
          .clk(clk),
          .rst(rst),
          .d  ({shift[c], res_q[ACC_W*B+:ACC_W]}),
          .q  ({v_out[c], y_out[ACC_W*c+:ACC_W]})
      );
    end

    // The operand registers of the PEs (both variants).
    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_pe
        localparam integer I = r * COLS + c;
        if (r > 0) begin : g_w
          reg [WW-1:0] w_r;
          always @(posedge clk) begin
            if (rst) w_r <= {WW{1'b0}};
            else w_r <= w_q[WW*(I-COLS)+:WW];
          end
          assign w_q[WW*I+:WW] = w_r;
        end
        if (c > 0) begin : g_x
          reg [7:0] x_r;
          reg v_r;
          always @(posedge clk) begin
            if (rst) begin
              x_r <= 8'd0;
              v_r <= 1'b0;
            end else begin
              x_r <= x_q[8*(I-1)+:8];
              v_r <= v_q[I-1];
            end
          end
          assign x_q[8*I+:8] = x_r;
          assign v_q[I] = v_r;
        end
        pe_mul #(
            .PE(PE)
        ) mul (
            .w(w_q[WW*I+:WW]),
            .x(x_q[8*I+:8]),
            .p(prod_q[PW*I+:PW])
        );
      end
    end

    if (ABANKS == 2) begin : g_two
      // l_q: the `last` bit next to v_q (row r's skew delays it r cycles, then one PE right per
      // cycle); u_q: the shadow's "being unloaded" bit; grp: the PE takes part in this cycle's
      // unload step of its column; first: the column's first unload step of a tile.
      wire [N_PE-1:0] l_q;
      wire [N_PE-1:0] u_q;
      wire [N_PE-1:0] grp;
      wire [COLS-1:0] first;
      for (r = 0; r < ROWS; r = r + 1) begin : g_last_skew
        if (r == 0) begin : g_direct
          assign l_q[0] = last;
        end else begin : g_delay
          delay_line #(
              .W(1),
              .D(r)
          ) dl (
              .clk(clk),
              .rst(rst),
              .d  (last),
              .q  (l_q[r*COLS])
          );
        end
      end
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        localparam integer B = (ROWS - 1) * COLS + c;
        assign shift[c] = h_q[B];
        assign first[c] = h_q[B] & ~u_q[B];
      end
      for (r = 0; r < ROWS; r = r + 1) begin : g_row
        for (c = 0; c < COLS; c = c + 1) begin : g_pe
          localparam integer I = r * COLS + c;
          if (c > 0) begin : g_l
            reg l_r;
            always @(posedge clk) begin
              if (rst) l_r <= 1'b0;
              else l_r <= l_q[I-1];
            end
            assign l_q[I] = l_r;
          end
          wire [ACC_W-1:0] s_above;
          wire g_above;
          if (r == 0) begin : g_top
            assign s_above = {ACC_W{1'b0}};
            assign g_above = 1'b0;
          end else begin : g_inner
            assign s_above = res_q[ACC_W*(I-COLS)+:ACC_W];
            assign g_above = grp[I-COLS];
          end
          reg [ACC_W-1:0] acc_r, s_r;
          reg h_r, hs_r, u_r;
          assign grp[I] = hs_r & (u_r | first[c]);
          wire [PW-1:0] prod = prod_q[PW*I+:PW];
          wire [ACC_W-1:0] prod_x = {{(ACC_W - PW) {prod[PW-1]}}, prod};
          wire [ACC_W-1:0] sum = (h_r ? acc_r : {ACC_W{1'b0}}) + prod_x;
          always @(posedge clk) begin
            if (rst) begin
              acc_r <= {ACC_W{1'b0}};
              h_r   <= 1'b0;
            end else if (v_q[I]) begin
              acc_r <= sum;
              h_r   <= ~l_q[I];
            end
          end
          always @(posedge clk) begin
            if (rst) begin
              s_r  <= {ACC_W{1'b0}};
              hs_r <= 1'b0;
              u_r  <= 1'b0;
            end else if (v_q[I] & l_q[I]) begin
              s_r  <= sum;
              hs_r <= 1'b1;
              u_r  <= 1'b0;
            end else if (grp[I]) begin
              s_r  <= s_above;
              hs_r <= g_above;
              u_r  <= g_above;
            end
          end
          assign res_q[ACC_W*I+:ACC_W] = s_r;
          assign h_q[I] = hs_r;
          assign u_q[I] = u_r;
        end
      end
    end else begin : g_one
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        localparam integer B = (ROWS - 1) * COLS + c;
        assign shift[c] = h_q[B] & ~v_q[B];
      end
      for (r = 0; r < ROWS; r = r + 1) begin : g_row
        for (c = 0; c < COLS; c = c + 1) begin : g_pe
          localparam integer I = r * COLS + c;
          wire [ACC_W-1:0] acc_above;
          wire h_above;
          if (r == 0) begin : g_top
            assign acc_above = {ACC_W{1'b0}};
            assign h_above = 1'b0;
          end else begin : g_inner
            assign acc_above = res_q[ACC_W*(I-COLS)+:ACC_W];
            assign h_above = h_q[I-COLS];
          end
          reg [ACC_W-1:0] acc_r;
          reg h_r;
          wire [PW-1:0] prod = prod_q[PW*I+:PW];
          wire [ACC_W-1:0] prod_x = {{(ACC_W - PW) {prod[PW-1]}}, prod};
          wire [ACC_W-1:0] base = h_r ? acc_r : {ACC_W{1'b0}};
          always @(posedge clk) begin
            if (rst) begin
              acc_r <= {ACC_W{1'b0}};
              h_r   <= 1'b0;
            end else if (v_q[I]) begin
              acc_r <= base + prod_x;
              h_r   <= 1'b1;
            end else if (shift[c]) begin
              acc_r <= acc_above;
              h_r   <= h_above;
            end
          end
          assign res_q[ACC_W*I+:ACC_W] = acc_r;
          assign h_q[I] = h_r;
        end
      end
    end
  endgenerate

  // Every column carries the same valid bit (skew and deskew cancel): all must agree.
  assign y_valid = &v_out;
endmodule
