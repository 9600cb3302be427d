// systolic_os: an output-stationary ROWS x COLS array of int8 x int8 PEs, each with an ACC_W-bit
// (default 32, wrapping) accumulator, with its own input skew and output deskew, so the ports
// see one unskewed vector per reduction index k and one unskewed result row per cycle.
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
//             cycles). A tile's Kc stream cycles must be consecutive and may only start when the
//             array is empty (after reset, or once the previous tile's last row is on y_out).
//             The valid bit travels with the activations (row r delayed r, then one PE per
//             cycle), so each PE knows when it accumulates.
//   x_in      row r's activation X[m0 + r, k] in x_in[8r +: 8] (int8), unskewed: the array
//             delays row r by r cycles itself
//   w_in      column c's weight W[n0 + c, k] in w_in[8c +: 8] (int8), unskewed (column c delayed
//             c cycles inside)
//   y_valid   1: y_out holds the next result row (registered)
//   y_out     column c's result in y_out[ACC_W c +: ACC_W] (registered, deskewed: one result row
//             per cycle, all columns together). Rows come out bottom first: row ROWS-1, then
//             ROWS-2, ..., row 0 (ROWS rows per tile, also the zero rows of a ragged m-tile).
// Accumulate and unload: each PE has an accumulator acc and a bit h ("holds a sum of this
// tile"). A PE whose valid bit is 1 does acc <= (h ? acc : 0) + x * w, h <= 1 (so the first k
// of a tile starts from 0: no psum input). Column c unloads once its bottom PE has finished
// (h = 1 and valid = 0 at PE (ROWS-1, c); the bottom PE is the column's last to finish): then
// every PE of the column shifts down, acc <= acc of the PE above, h <= h above (0 at the top),
// and the bottom's {1, acc} enters the column's output line; after ROWS shifts the column's h
// bits are all 0 and the column stops. A PE that is neither accumulating nor shifting holds.
// Timing: with the stream in cycles 0 .. Kc-1, PE (r, c) accumulates in cycles
// r + c .. Kc-1 + r + c, column c shifts in cycles Kc + ROWS-1 + c + j (j = 0 .. ROWS-1), and
// the output line (COLS - c registers) shows row ROWS-1-j on y_out after the edge that ends
// cycle Kc + ROWS + COLS - 2 + j. So a tile takes Kc stream cycles and 2 ROWS + COLS - 2 drain
// cycles (from the end of the stream until the last row, row 0, is on y_out); no load phase.
//
// Model: quasar::units::SystolicOsArray (cycle for cycle, the same ports) and the protocol
// driver run_systolic_os with its closed-form phase counts systolic_os_timing
// (models/units/systolic_os.hpp).
module systolic_os #(
    parameter integer ROWS  = 4,
    parameter integer COLS  = 4,
    parameter integer ACC_W = 32
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   valid,
    input  wire [     ROWS*8-1:0] x_in,
    input  wire [     COLS*8-1:0] w_in,
    output wire                   y_valid,
    output wire [COLS*ACC_W-1:0]  y_out
);
  localparam integer N_PE = ROWS * COLS;

  // Per-PE state, flattened with index r * COLS + c:
  //   x_q, v_q  the activation the PE multiplies this cycle and its valid bit (column 0: the
  //             skewed input; other columns: a register holding what the left neighbour had)
  //   w_q       the weight the PE multiplies this cycle (row 0: the skewed input; other rows: a
  //             register holding what the PE above had)
  //   acc_q     the accumulator, h_q its "holds a sum of this tile" bit
  wire [N_PE*8-1:0] x_q;
  wire [N_PE-1:0] v_q;
  wire [N_PE*8-1:0] w_q;
  wire [N_PE*ACC_W-1:0] acc_q;
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
        assign w_q[0+:8] = w_in[0+:8];
      end else begin : g_delay
        delay_line #(
            .W(8),
            .D(c)
        ) dl (
            .clk(clk),
            .rst(rst),
            .d  (w_in[8*c+:8]),
            .q  (w_q[8*c+:8])
        );
      end
      assign shift[c] = h_q[B] & ~v_q[B];
      delay_line #(
          .W(ACC_W + 1),
          .D(COLS - c)
      ) out_line (
          .clk(clk),
          .rst(rst),
          .d  ({shift[c], acc_q[ACC_W*B+:ACC_W]}),
          .q  ({v_out[c], y_out[ACC_W*c+:ACC_W]})
      );
    end

    // The PEs.
    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_pe
        localparam integer I = r * COLS + c;
        wire [ACC_W-1:0] acc_above;
        wire h_above;
        if (r == 0) begin : g_top
          assign acc_above = {ACC_W{1'b0}};
          assign h_above = 1'b0;
        end else begin : g_inner
          assign acc_above = acc_q[ACC_W*(I-COLS)+:ACC_W];
          assign h_above = h_q[I-COLS];
          reg [7:0] w_r;
          always @(posedge clk) begin
            if (rst) w_r <= 8'd0;
            else w_r <= w_q[8*(I-COLS)+:8];
          end
          assign w_q[8*I+:8] = w_r;
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

        reg [ACC_W-1:0] acc_r;
        reg h_r;
        wire signed [15:0] prod = $signed(w_q[8*I+:8]) * $signed(x_q[8*I+:8]);
        wire [ACC_W-1:0] prod_x = {{(ACC_W - 16) {prod[15]}}, prod};
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
        assign acc_q[ACC_W*I+:ACC_W] = acc_r;
        assign h_q[I] = h_r;
      end
    end
  endgenerate

  // Every column carries the same valid bit (skew and deskew cancel): all must agree.
  assign y_valid = &v_out;
endmodule
