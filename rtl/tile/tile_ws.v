// tile_ws: one weight-stationary int8 compute tile running w8a8 GEMM tiles, single-buffered
// weights: the `array_single` path of the accelerator model's core (models/arch/core/core.cpp)
// with its fetch DMA, buffer slots, edge queue and write DMA (models/arch/dma, sram/buffer_slots,
// core/tile_timing.hpp), cycle for cycle. Issue 20, first slice; tests/tile runs it against the
// SystemC model's cycle mode.
//
// What it executes: the same tile commands the SystemC core executes (arch::Tile, from
// sim/mapping's plan_gemm), one per weight tile, n-tile outer, k-tile inner, written before the
// run into its command memory, one 32-bit word per field: word 16 t + f of tile t (cmd_we,
// cmd_addr, cmd_data), ntiles of them:
//    0 m (tokens)        1 rows_used        2 cols_used     3 k0
//    4 flags: bit 0 first_k, bit 1 last_k, bit 2 psum_chained
//    5 weight_bytes      6 act_bytes        7 out_bytes     8 epilogue_ops
//    9 in_addr: where the tile's operands start in memory
//   10 out_addr: where its fp16 outputs go (last_k tiles)
//   11 spill bytes (read + write)  12 rescale_ops  13 dequant_ops  14 stream_steps  15 n0
// Words 9 and 10 are the harness's memory layout (the model has no addresses); 15 is not read.
// A command the tile cannot run (spills, group rescales, dequantizers, sizes beyond the
// parameters, byte counts that are not this layout's) sets `error` instead of being guessed at.
//
// Memory layout of a tile's operands (in_addr, weight_bytes + act_bytes bytes, one request):
// the weight codes (rows_used rows k0 .. k0 + rows_used - 1 of cols_used int8 codes each), the
// cols_used fp16 channel scales when k0 = 0, then when act_bytes > 0 the activations (m rows of
// rows_used int8 codes, token-major) and, when first_k, the m fp32 token scales; little endian.
// Outputs (out_addr, out_bytes): m rows of cols_used fp16, token-major.
//
// Blocks, and the model's rule each one implements:
//   fetch DMA   FetchDma: tile g's operands are requested (one request of weight_bytes +
//               act_bytes) once tile g - 1's were and tile g - DEPTH has released its slot (at
//               once for the first DEPTH tiles: several requests can leave in one cycle, on
//               lanes 0, 1, ... in tile order). Data comes back in beats tagged with the slot
//               (rd_beat_*); the request is complete when the memory says so (rd_done, a mask
//               of slots): then the tile may start.
//   slots       BufferSlots: DEPTH slots (flat_mem) of one tile's operands each; a slot is free
//               again once its tile's last token has entered the array (end of its stream).
//   array       Core::array_single with the register-level systolic_array (WBANKS = 1): a tile
//               starts once the array is free, the edge has taken the previous tile and its
//               operands are in; ROWS load cycles (row ROWS-1 first), m stream cycles, then the
//               drain until its last result shows. Results (and chained partial sums, psum_in)
//               live in the ofmap buffer, one half per n-tile (parity), so the edge reads one
//               n-tile while the array computes the next.
//   resident x  the plan fetches the activations once (with the first n-tile's tiles) when they
//               fit the ifmap buffer (act_bytes = 0 for the later n-tiles): the stream copies
//               each token's row into the resident ifmap store as it enters, and the first tile
//               its token scales; later n-tiles stream from there. (Plans that fetch them again
//               are not run: see tests/tile.)
//   edge        EdgeQueue + TileTiming: the edge takes drained tiles in order, each once it is
//               free of the previous one, and is busy ceil(epilogue_ops / EPI_UNITS) +
//               EPI_LAT cycles (0 when nothing to do). EPI_UNITS lanes of epilogue_w8a8 work
//               through the tile's outputs in flat (token-major) order: the lanes read the
//               ofmap in the accept cycle and every cycle after (batch b in cycle accept + b,
//               registered), then EPI_LAT - 1 more registers, then the output buffer's write:
//               the last output is readable at accept + batches + EPI_LAT, the model's finish.
//   write DMA   WriteDma: a finished tile with outputs is written at its finish cycle, one
//               request of out_bytes (wr_req_*), its data streamed from the output buffer (one
//               half per n-tile) in beats from the next cycle; `done` when every tile is
//               finished and every write complete (wr_done_count per cycle).
// Timing only comes from those rules: every buffer port moves a row a cycle (the model's port
// rules with ample bytes_per_cycle) and every memory has asynchronous reads (flat_mem).
//
// Parameters: ROWS x COLS array; DEPTH slots (buffers.prefetch_depth); EPI_UNITS lanes (a power
// of two) and EPI_LAT latency (>= 1) of the epilogue (edge.epilogue_units,
// epilogue_latency_cycles); BEAT bytes a memory data beat (a power of two, >= 2 COLS, >= ROWS);
// M_MAX tokens, KT_MAX k-tiles of resident activations, NT_MAX tiles, SLOT_WORDS beats a slot
// (powers of two).
//
// Debug outputs (pulses; each kind happens in tile order, so the n-th pulse is the n-th tile's):
// ev_start (first load cycle), ev_load_done (first stream cycle), ev_stream_done (first cycle
// after the stream: the slot is free), ev_drain_done (the last result shows), ev_edge_accept,
// ev_edge_finish (a count: a tile with no edge work finishes in its accept cycle, which may be
// another tile's finish cycle). Fetch issues are rd_req_valid's lanes, write issues wr_req_valid.
// `error` (sticky bits): 0 a command it cannot run, 1 a fetch of 0 bytes or more than a slot,
// 2 beats beyond a request or missing at its completion, 3 activations or token scales read
// before fetched, 4 a result with no token in flight, 5 the write queue overrun or an output
// half overwritten before written out, 6 a tile index beyond NT_MAX.
module tile_ws #(
    parameter integer ROWS       = 4,
    parameter integer COLS       = 4,
    parameter integer DEPTH      = 2,
    parameter integer EPI_UNITS  = 4,
    parameter integer EPI_LAT    = 2,
    parameter integer BEAT       = 16,
    parameter integer M_MAX      = 64,
    parameter integer KT_MAX     = 16,
    parameter integer NT_MAX     = 256,
    parameter integer SLOT_WORDS = 64,
    // Derived (not to be set): slot number bits, command word address bits.
    parameter integer SW         = DEPTH > 1 ? $clog2(DEPTH) : 1,
    parameter integer CAW        = $clog2(NT_MAX) + 4
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  cmd_we,
    input  wire [       CAW-1:0] cmd_addr,
    input  wire [          31:0] cmd_data,
    input  wire [          15:0] ntiles,
    input  wire                  run,
    output wire [     DEPTH-1:0] rd_req_valid,
    output wire [  DEPTH*32-1:0] rd_req_addr,
    output wire [  DEPTH*32-1:0] rd_req_bytes,
    output wire [  DEPTH*SW-1:0] rd_req_slot,
    input  wire                  rd_beat_valid,
    input  wire [        SW-1:0] rd_beat_slot,
    input  wire [    BEAT*8-1:0] rd_beat_data,
    input  wire [     DEPTH-1:0] rd_done,
    output wire                  wr_req_valid,
    output wire [          31:0] wr_req_addr,
    output wire [          31:0] wr_req_bytes,
    output wire                  wr_beat_valid,
    output wire [    BEAT*8-1:0] wr_beat_data,
    input  wire [           3:0] wr_done_count,
    output wire                  done,
    output wire [           6:0] error,
    output wire                  ev_start,
    output wire                  ev_load_done,
    output wire                  ev_stream_done,
    output wire                  ev_drain_done,
    output wire                  ev_edge_accept,
    output wire [           1:0] ev_edge_finish
);
  localparam integer U = EPI_UNITS;
  localparam integer LU = $clog2(U);
  localparam integer TW = 16;  // tile numbers
  // Slots: BEAT byte banks of SLOT_WORDS words.
  localparam integer SAW = $clog2(BEAT * SLOT_WORDS);
  localparam integer SLOT_BYTES = BEAT * SLOT_WORDS;
  localparam integer LBEAT = $clog2(BEAT);
  // ofmap: int32 partial sums, two halves of M_MAX x COLS (token-major, packed by cols_used).
  localparam integer NBO = 1 << $clog2(U > COLS ? U : COLS);
  localparam integer HALF_O = 1 << $clog2(M_MAX * COLS);
  localparam integer OAW = $clog2(HALF_O) + 1;
  // Output buffer: fp16, two halves, read by the write DMA BEAT / 2 elements a beat.
  localparam integer NBF = 1 << $clog2(U > BEAT / 2 ? U : BEAT / 2);
  localparam integer FAW = OAW;
  localparam integer KW = $clog2(KT_MAX);
  localparam integer XAW = KW + $clog2(M_MAX);

  // ---- the command memory ----------------------------------------------------------------------
  reg [31:0] cmem[0:NT_MAX*16-1];
  always @(posedge clk) if (cmd_we) cmem[cmd_addr] <= cmd_data;

  reg [5:0] err;  // error bits 0-4 and 6 (as 5); bit 5 is err5 (the second always block)
  reg err5;
  assign error = {err[5], err5, err[4:0]};

  // ---- fetch DMA --------------------------------------------------------------------------------
  reg  [TW-1:0] issued;  // tiles whose fetch is issued
  reg  [TW-1:0] released;  // tiles whose slot is free again
  reg  [SW-1:0] iss_slot;  // the slot of tile `issued`
  reg  [DEPTH-1:0] slot_ready;  // the slot's fetch is complete, its tile not started
  reg  [31:0] slot_beats[0:DEPTH-1];  // beats its request returns
  reg  [31:0] beat_cnt[0:DEPTH-1];  // beats received
  wire [DEPTH-1:0] lane_ok;
  wire [DEPTH*SW-1:0] lane_slot;
  wire [DEPTH*32-1:0] lane_bytes;
  genvar j;
  generate
    for (j = 0; j < DEPTH; j = j + 1) begin : g_lane
      wire [31:0] li = {16'd0, issued} + j;
      wire prev_ok;
      if (j == 0) begin : g_first
        assign prev_ok = run;
      end else begin : g_next
        assign prev_ok = g_lane[j-1].ok;
      end
      // Tile li may go once li - DEPTH has released its slot (the first DEPTH at once).
      wire ok = prev_ok && li < {16'd0, ntiles} && (li < DEPTH || {16'd0, released} + DEPTH > li);
      assign lane_ok[j] = ok;
      wire [SW:0] s = {1'b0, iss_slot} + j[SW:0];
      assign lane_slot[SW*j+:SW] = s >= DEPTH[SW:0] ? SW'(s - DEPTH[SW:0]) : s[SW-1:0];
      wire [CAW-5:0] ti = li[CAW-5:0];
      assign lane_bytes[32*j+:32] = cmem[{ti, 4'd5}] + cmem[{ti, 4'd6}];
      assign rd_req_addr[32*j+:32] = cmem[{ti, 4'd9}];
    end
  endgenerate
  assign rd_req_valid = lane_ok;
  assign rd_req_slot  = lane_slot;
  assign rd_req_bytes = lane_bytes;
  integer n_issue_i;
  reg [TW-1:0] n_issue;
  always @* begin
    n_issue = 0;
    for (n_issue_i = 0; n_issue_i < DEPTH; n_issue_i = n_issue_i + 1)
      if (lane_ok[n_issue_i]) n_issue = n_issue + 1;
  end
  wire [DEPTH-1:0] ready_now = slot_ready | rd_done;
  wire [31:0] iss_sum = {{(32 - SW) {1'b0}}, iss_slot} + {16'd0, n_issue};
  wire [SW-1:0] next_iss_slot = SW'(iss_sum % DEPTH);

  // ---- buffer slots -----------------------------------------------------------------------------
  // Read port 0: weight rows (load) and activation rows (stream); port 1: channel scales (at
  // the start) and token scales (stream). Both from the tile the array is on (or starts).
  wire [SAW-1:0] slot_ra0, slot_ra1;
  wire [SW-1:0] rslot;
  wire [BEAT*8-1:0] slot_q0[0:DEPTH-1];
  wire [BEAT*8-1:0] slot_q1[0:DEPTH-1];
  generate
    for (j = 0; j < DEPTH; j = j + 1) begin : g_slot
      wire [2*BEAT*8-1:0] q;
      flat_mem #(
          .EW(8),
          .NB(BEAT),
          .WORDS(SLOT_WORDS),
          .NR(2),
          .AW(SAW)
      ) mem (
          .clk(clk),
          .we(rd_beat_valid && rd_beat_slot == SW'(j)),
          .waddr({beat_cnt[j][SAW-LBEAT-1:0], {LBEAT{1'b0}}}),
          .wcount(BEAT[LBEAT:0]),
          .wdata(rd_beat_data),
          .raddr({slot_ra1, slot_ra0}),
          .rdata(q)
      );
      assign slot_q0[j] = q[0+:BEAT*8];
      assign slot_q1[j] = q[BEAT*8+:BEAT*8];
    end
  endgenerate
  wire [BEAT*8-1:0] sq0 = slot_q0[rslot];
  wire [BEAT*8-1:0] sq1 = slot_q1[rslot];

  // ---- array controller -------------------------------------------------------------------------
  localparam [1:0] A_IDLE = 2'd0, A_LOAD = 2'd1, A_STREAM = 2'd2, A_DRAIN = 2'd3;
  reg [1:0] a_st;
  reg [TW-1:0] ga;  // the next tile to start
  reg [TW-1:0] cur;  // the tile on the array
  reg [SW-1:0] nslot, cslot;
  reg [31:0] cnt;  // load cycle, or token
  reg [31:0] res;  // results of the current tile so far
  reg par;  // the current tile's n-tile parity
  reg hand_pend;  // a drained tile waits for the edge
  reg [TW-1:0] hand_tile;
  reg hand_par;
  reg ev_sd;
  wire busy_ld = a_st == A_LOAD || a_st == A_STREAM;
  // The tile whose slot and fields the load / stream logic reads this cycle.
  /* verilator lint_off UNUSEDSIGNAL */  // (tile numbers beyond NT_MAX: error bit 6)
  wire [TW-1:0] at = busy_ld ? cur : ga;
  /* verilator lint_on UNUSEDSIGNAL */
  assign rslot = busy_ld ? cslot : nslot;
  wire [CAW-5:0] at_i = at[CAW-5:0];
  wire [CAW-5:0] cur_i = cur[CAW-5:0];
  wire [31:0] f_m = cmem[{at_i, 4'd0}], f_ru = cmem[{at_i, 4'd1}], f_nc = cmem[{at_i, 4'd2}];
  wire [31:0] f_k0 = cmem[{at_i, 4'd3}], f_fl = cmem[{at_i, 4'd4}];
  wire [31:0] f_wb = cmem[{at_i, 4'd5}], f_ab = cmem[{at_i, 4'd6}], f_ob = cmem[{at_i, 4'd7}];
  wire [31:0] f_epi = cmem[{at_i, 4'd8}], f_sp = cmem[{at_i, 4'd11}];
  wire [31:0] f_rs = cmem[{at_i, 4'd12}], f_dq = cmem[{at_i, 4'd13}];
  wire [31:0] f_steps = cmem[{at_i, 4'd14}];
  wire [31:0] c_m = cmem[{cur_i, 4'd0}], c_nc = cmem[{cur_i, 4'd2}];
  wire first_k = f_fl[0], last_k = f_fl[1], chained = f_fl[2];
  wire [31:0] kblk = f_k0 / ROWS;
  wire has_ws = f_k0 == 32'd0;  // channel scales come with the tile
  wire has_x = f_ab != 32'd0;  // activations come with the tile
  wire has_xs = has_x && first_k;  // token scales too
  // The command check (at the start cycle).
  wire [31:0] wb_want = f_ru * f_nc + (has_ws ? 32'd2 * f_nc : 32'd0);
  wire [31:0] ab_want = f_m * f_ru + (first_k ? 32'd4 * f_m : 32'd0);
  wire cmd_ok = f_m >= 1 && f_m <= M_MAX && f_steps == f_m && f_ru >= 1 && f_ru <= ROWS &&
      f_nc >= 1 && f_nc <= COLS && f_k0 % ROWS == 0 && kblk < KT_MAX && f_fl[31:3] == 29'd0 &&
      chained == !first_k && first_k == has_ws && f_wb == wb_want &&
      (!has_x || f_ab == ab_want) && f_wb + f_ab <= SLOT_BYTES &&
      (last_k ? f_ob == 32'd2 * f_m * f_nc && f_epi == f_m * f_nc : f_ob == 0 && f_epi == 0) &&
      f_sp == 0 && f_rs == 0 && f_dq == 0;
  reg [KT_MAX-1:0] blk_valid;  // resident activation blocks fetched
  reg xs_valid;  // token scales fetched

  // The edge (below) says whether it takes a drained tile this cycle.
  wire y_valid;
  wire [COLS*32-1:0] y_out;
  wire drain_now = a_st == A_DRAIN && y_valid && res + 1 == c_m;
  wire pend_now = hand_pend || drain_now;
  /* verilator lint_off UNUSEDSIGNAL */  // (tile numbers beyond NT_MAX: error bit 6)
  wire [TW-1:0] pend_tile = hand_pend ? hand_tile : cur;
  /* verilator lint_on UNUSEDSIGNAL */
  wire pend_par = hand_pend ? hand_par : par;
  wire edge_free;
  wire take_now = run && pend_now && edge_free;
  wire start_now = run && ga < ntiles && (a_st == A_IDLE || drain_now) && (!pend_now || take_now)
      && ready_now[nslot];
  wire new_par = first_k ? !par : par;  // at the start: the starting tile's parity
  wire tpar = busy_ld ? par : new_par;

  // Load: row ROWS-1-i in load cycle i, 0 beyond rows_used / cols_used.
  wire [31:0] load_i = start_now ? 32'd0 : cnt;
  wire [31:0] row_r = ROWS - 1 - load_i;
  wire w_load = start_now || a_st == A_LOAD;
  wire streaming = a_st == A_STREAM;
  wire [31:0] tok = cnt;
  // Slot read addresses: weight row / activation row; channel scales / token scale.
  // (Offsets are within the slot, the ofmap and output halves by the command check: their high
  // bits are 0.)
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] ra0 = streaming ? f_wb + tok * f_ru : row_r * f_nc;
  wire [31:0] ra1 = streaming ? f_wb + f_m * f_ru + 32'd4 * tok : f_ru * f_nc;
  /* verilator lint_on UNUSEDSIGNAL */
  assign slot_ra0 = ra0[SAW-1:0];
  assign slot_ra1 = ra1[SAW-1:0];
  // Resident activations.
  reg [ROWS*8-1:0] xmem[0:KT_MAX*M_MAX-1];
  wire [XAW-1:0] xaddr = {kblk[KW-1:0], tok[$clog2(M_MAX)-1:0]};
  reg [COLS*8-1:0] w_in;
  reg [ROWS*8-1:0] x_row;
  integer c;
  always @* begin
    for (c = 0; c < COLS; c = c + 1)
      w_in[8*c+:8] = (c < f_nc && row_r < f_ru) ? sq0[8*c+:8] : 8'd0;
    for (c = 0; c < ROWS; c = c + 1)
      x_row[8*c+:8] = c >= f_ru ? 8'd0 : has_x ? sq0[8*c+:8] : xmem[xaddr][8*c+:8];
  end
  // Partial sums: the previous k-tile's, from the ofmap (chained), else 0.
  wire [NBO*32-1:0] ofm_q0;
  reg [COLS*32-1:0] psum_in;
  always @* begin
    for (c = 0; c < COLS; c = c + 1)
      psum_in[32*c+:32] = (chained && c < f_nc) ? ofm_q0[32*c+:32] : 32'd0;
  end

  systolic_array #(
      .ROWS  (ROWS),
      .COLS  (COLS),
      .ACC_W (32),
      .WBANKS(1)
  ) array (
      .clk    (clk),
      .rst    (rst),
      .w_load (w_load),
      .w_bank (1'b0),
      .x_bank (1'b0),
      .w_in   (w_in),
      .x_valid(streaming),
      .x_in   (x_row),
      .psum_in(psum_in),
      .y_valid(y_valid),
      .y_out  (y_out)
  );

  // ---- ofmap (partial sums) ---------------------------------------------------------------------
  // Write: the array's results; port 0: psum_in; port 1: the edge's lanes.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] res_off = res * c_nc;
  wire [31:0] ps_off = tok * f_nc;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [OAW-1:0] ofm_ra1;
  wire [2*NBO*32-1:0] ofm_q;
  reg [NBO*32-1:0] ofm_wd;
  always @* begin
    ofm_wd = {NBO * 32{1'b0}};
    ofm_wd[COLS*32-1:0] = y_out;
  end
  flat_mem #(
      .EW(32),
      .NB(NBO),
      .WORDS(2 * HALF_O / NBO),
      .NR(2),
      .AW(OAW)
  ) ofmap (
      .clk(clk),
      .we(y_valid && (a_st == A_STREAM || a_st == A_DRAIN)),
      .waddr({par, res_off[OAW-2:0]}),
      .wcount(c_nc[$clog2(NBO):0]),
      .wdata(ofm_wd),
      .raddr({ofm_ra1, tpar, ps_off[OAW-2:0]}),
      .rdata(ofm_q)
  );
  assign ofm_q0 = ofm_q[0+:NBO*32];
  wire [NBO*32-1:0] ofm_q1 = ofm_q[NBO*32+:NBO*32];

  // Scales for the edge: the token scales (resident) and each n-tile's channel scales.
  reg [31:0] xs[0:M_MAX-1];
  reg [15:0] cs[0:2*COLS-1];

  always @(posedge clk) begin
    if (rst) begin
      issued <= 0;
      released <= 0;
      iss_slot <= 0;
      slot_ready <= 0;
      a_st <= A_IDLE;
      ga <= 0;
      cur <= 0;
      nslot <= 0;
      cslot <= 0;
      cnt <= 0;
      res <= 0;
      par <= 1'b1;  // the first tile (first_k) flips it to 0
      hand_pend <= 1'b0;
      hand_tile <= 0;
      hand_par <= 1'b0;
      ev_sd <= 1'b0;
      blk_valid <= 0;
      xs_valid <= 1'b0;
      err <= 6'd0;
    end else begin
      // Fetch issues.
      issued <= issued + n_issue;
      iss_slot <= next_iss_slot;
      for (c = 0; c < DEPTH; c = c + 1) begin
        if (lane_ok[c]) begin
          slot_beats[lane_slot[SW*c+:SW]] <=
              (lane_bytes[32*c+:32] + BEAT - 1) >> LBEAT;
          beat_cnt[lane_slot[SW*c+:SW]] <= 0;
          if (lane_bytes[32*c+:32] == 0 || lane_bytes[32*c+:32] > SLOT_BYTES) err[1] <= 1'b1;
          if ({16'd0, issued} + c >= NT_MAX) err[5] <= 1'b1;
        end
      end
      if (rd_beat_valid) begin
        beat_cnt[rd_beat_slot] <= beat_cnt[rd_beat_slot] + 1;
        if (beat_cnt[rd_beat_slot] >= slot_beats[rd_beat_slot]) err[2] <= 1'b1;
      end
      for (c = 0; c < DEPTH; c = c + 1)
        if (rd_done[c] && beat_cnt[c] != slot_beats[c]) err[2] <= 1'b1;
      slot_ready <= ready_now & ~(start_now ? DEPTH'(1) << nslot : {DEPTH{1'b0}});
      // The array.
      ev_sd <= 1'b0;
      if (y_valid) begin
        if (a_st == A_STREAM || a_st == A_DRAIN) res <= res + 1;
        else err[4] <= 1'b1;
      end
      if (drain_now && !start_now) a_st <= A_IDLE;
      if (drain_now) begin
        hand_pend <= !take_now;
        hand_tile <= cur;
        hand_par <= par;
      end else if (take_now) begin
        hand_pend <= 1'b0;
      end
      if (start_now) begin
        cur <= ga;
        cslot <= nslot;
        ga <= ga + 1;
        nslot <= DEPTH > 1 && nslot == SW'(DEPTH - 1) ? 0 : DEPTH > 1 ? nslot + 1 : 0;
        par <= new_par;
        res <= 0;
        cnt <= 1;
        a_st <= ROWS == 1 ? A_STREAM : A_LOAD;
        if (ROWS == 1) cnt <= 0;
        if (!cmd_ok) err[0] <= 1'b1;
        if ({16'd0, ga} >= NT_MAX) err[5] <= 1'b1;
        if (!has_x && (!blk_valid[kblk[KW-1:0]] || (first_k && !xs_valid))) err[3] <= 1'b1;
        if (has_ws)
          for (c = 0; c < COLS; c = c + 1)
            if (c < f_nc) cs[COLS*(new_par ? 1 : 0)+c] <= sq1[16*c+:16];
      end else if (a_st == A_LOAD) begin
        if (cnt == ROWS - 1) begin
          a_st <= A_STREAM;
          cnt  <= 0;
        end else begin
          cnt <= cnt + 1;
        end
      end else if (a_st == A_STREAM) begin
        if (has_x) xmem[xaddr] <= x_row;
        if (has_xs) xs[tok[$clog2(M_MAX)-1:0]] <= sq1[31:0];
        if (tok + 1 == f_m) begin
          a_st <= A_DRAIN;
          released <= released + 1;
          ev_sd <= 1'b1;
          if (has_x) blk_valid[kblk[KW-1:0]] <= 1'b1;
          if (has_xs) xs_valid <= 1'b1;
        end else begin
          cnt <= cnt + 1;
        end
      end
    end
  end

  // ---- edge units -------------------------------------------------------------------------------
  reg [31:0] e_left;  // busy cycles left: free at 0
  reg e_has;  // a tile with work in the edge, not finished
  reg e_par;
  reg [31:0] e_nb, e_b, e_tot, e_nc, e_ob, e_oaddr;
  reg [31:0] e_m0, e_c0;  // position (token, column) of the next batch's lane 0
  assign edge_free = e_left == 0;
  wire [CAW-5:0] pt_i = pend_tile[CAW-5:0];
  wire [31:0] p_epi = cmem[{pt_i, 4'd8}], p_nc = cmem[{pt_i, 4'd2}];
  wire [31:0] p_ob = cmem[{pt_i, 4'd7}], p_oaddr = cmem[{pt_i, 4'd10}];
  wire [31:0] p_nb = (p_epi + U - 1) >> LU;
  wire [31:0] p_cyc = p_epi == 0 ? 32'd0 : p_nb + EPI_LAT;
  wire fin_a = e_has && e_left == 0;  // the edge's tile finishes
  wire fin_b = take_now && p_cyc == 0;  // a tile with nothing to do finishes as it is taken
  wire issue = (take_now && p_cyc != 0) || (e_has && e_b < e_nb);
  wire [31:0] b = take_now ? 32'd0 : e_b;
  wire [31:0] tot = take_now ? p_epi : e_tot;
  wire [31:0] nc_e = take_now ? p_nc : e_nc;
  wire ipar = take_now ? pend_par : e_par;
  wire [31:0] b_off = b << LU;
  assign ofm_ra1 = {ipar, b_off[OAW-2:0]};
  // Lane positions: lane 0 at (m0, c0), each next lane one output further (token-major).
  wire [32*U-1:0] lm, lc;
  generate
    for (j = 0; j < U; j = j + 1) begin : g_pos
      wire [31:0] m, cc;
      if (j == 0) begin : g_first
        assign m  = take_now ? 32'd0 : e_m0;
        assign cc = take_now ? 32'd0 : e_c0;
      end else begin : g_next
        wire wrap = g_pos[j-1].cc + 1 == nc_e;
        assign m  = g_pos[j-1].m + (wrap ? 32'd1 : 32'd0);
        assign cc = wrap ? 32'd0 : g_pos[j-1].cc + 1;
      end
      assign lm[32*j+:32] = m;
      assign lc[32*j+:32] = cc;
    end
  endgenerate
  wire last_wrap = lc[32*(U-1)+:32] + 1 == nc_e;
  // Stage 0 (the ofmap read, registered), then EPI_LAT - 1 registers, then the write.
  reg s0_v, s0_par;
  reg [31:0] s0_off, s0_n;
  reg [32*U-1:0] s0_acc, s0_sx;
  reg [16*U-1:0] s0_sw;
  wire [16*U-1:0] y_lanes;
  generate
    for (j = 0; j < U; j = j + 1) begin : g_epi
      epilogue_w8a8 epi (
          .acc(s0_acc[32*j+:32]),
          .sx (s0_sx[32*j+:32]),
          .sw (s0_sw[16*j+:16]),
          .y  (y_lanes[16*j+:16])
      );
    end
  endgenerate
  // The write into the output buffer: {valid, half, offset, count, lanes}.
  localparam integer PW = 1 + 1 + 32 + 32 + 16 * U;
  wire [PW-1:0] p_in = {s0_v, s0_par, s0_off, s0_n, y_lanes};
  wire [PW-1:0] p_out;
  generate
    if (EPI_LAT == 1) begin : g_lat1
      assign p_out = p_in;
    end else begin : g_latn
      delay_line #(
          .W(PW),
          .D(EPI_LAT - 1)
      ) dl (
          .clk(clk),
          .rst(rst),
          .d  (p_in),
          .q  (p_out)
      );
    end
  endgenerate
  wire o_we = p_out[PW-1];
  wire o_par = p_out[PW-2];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] o_off = p_out[PW-3-:32];
  wire [31:0] o_n = p_out[PW-35-:32];
  /* verilator lint_on UNUSEDSIGNAL */
  reg [NBF*16-1:0] o_wd;
  always @* begin
    o_wd = {NBF * 16{1'b0}};
    o_wd[16*U-1:0] = p_out[16*U-1:0];
  end

  // ---- write DMA --------------------------------------------------------------------------------
  reg [1:0] wq_n;  // streams queued (at most 2: one per output half)
  reg wq_par[0:1];
  reg [31:0] wq_nb[0:1];
  reg [31:0] wq_b;  // beats of the head sent
  reg [31:0] w_out;  // writes requested, not complete
  reg [15:0] fin;  // tiles finished by the edge
  assign wr_req_valid = fin_a && e_ob != 0;
  assign wr_req_addr = e_oaddr;
  assign wr_req_bytes = e_ob;
  assign wr_beat_valid = wq_n != 0;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] wbo = wq_b << (LBEAT - 1);  // the head's next beat, in fp16 elements
  /* verilator lint_on UNUSEDSIGNAL */
  /* verilator lint_off UNUSEDSIGNAL */  // (a beat is the first BEAT / 2 elements read)
  wire [NBF*16-1:0] out_q;
  /* verilator lint_on UNUSEDSIGNAL */
  flat_mem #(
      .EW(16),
      .NB(NBF),
      .WORDS(2 * HALF_O / NBF),
      .NR(1),
      .AW(FAW)
  ) outbuf (
      .clk(clk),
      .we(o_we),
      .waddr({o_par, o_off[FAW-2:0]}),
      .wcount(o_n[$clog2(NBF):0]),
      .wdata(o_wd),
      .raddr({wq_par[0], wbo[FAW-2:0]}),
      .rdata(out_q)
  );
  assign wr_beat_data = out_q[BEAT*8-1:0];
  wire pop = wq_n != 0 && wq_b + 1 == wq_nb[0];
  wire push = wr_req_valid;
  wire [31:0] fin_now = {31'd0, fin_a} + {31'd0, fin_b};
  assign done = run && ntiles != 0 && {16'd0, fin} + fin_now == {16'd0, ntiles} &&
      w_out + {31'd0, wr_req_valid} == {28'd0, wr_done_count};

  always @(posedge clk) begin
    if (rst) begin
      e_left <= 0;
      e_has <= 1'b0;
      e_par <= 1'b0;
      e_nb <= 0;
      e_b <= 0;
      e_tot <= 0;
      e_nc <= 0;
      e_ob <= 0;
      e_oaddr <= 0;
      e_m0 <= 0;
      e_c0 <= 0;
      s0_v <= 1'b0;
      wq_n <= 0;
      wq_b <= 0;
      w_out <= 0;
      fin <= 0;
      err5 <= 1'b0;
    end else begin
      if (e_left != 0) e_left <= e_left - 1;
      if (fin_a) e_has <= 1'b0;
      if (take_now && p_cyc != 0) begin
        e_left <= p_cyc - 1;
        e_has <= 1'b1;
        e_par <= pend_par;
        e_nb <= p_nb;
        e_tot <= p_epi;
        e_nc <= p_nc;
        e_ob <= p_ob;
        e_oaddr <= p_oaddr;
        // The output half it fills must have been written out.
        if ((wq_n != 0 && wq_par[0] == pend_par) || (wq_n == 2 && wq_par[1] == pend_par) ||
            (push && e_par == pend_par))
          err5 <= 1'b1;
      end
      s0_v <= issue;
      if (issue) begin
        e_b <= b + 1;
        e_m0 <= lm[32*(U-1)+:32] + (last_wrap ? 32'd1 : 32'd0);
        e_c0 <= last_wrap ? 32'd0 : lc[32*(U-1)+:32] + 1;
        s0_par <= ipar;
        s0_off <= b_off;
        s0_n <= tot - b_off < U ? tot - b_off : U;
        for (c = 0; c < U; c = c + 1) begin
          s0_acc[32*c+:32] <= ofm_q1[32*c+:32];
          s0_sx[32*c+:32] <= xs[lm[32*c+:$clog2(M_MAX)]];
          s0_sw[16*c+:16] <= cs[COLS*(ipar ? 1 : 0)+lc[32*c+:32]];
        end
      end
      // Write DMA.
      if (pop) begin
        wq_par[0] <= wq_par[1];
        wq_nb[0] <= wq_nb[1];
        wq_b <= 0;
      end else if (wq_n != 0) begin
        wq_b <= wq_b + 1;
      end
      if (push) begin
        if (wq_n == 2 && !pop) err5 <= 1'b1;
        if (wq_n - (pop ? 2'd1 : 2'd0) == 0) begin
          wq_par[0] <= e_par;
          wq_nb[0]  <= (e_ob + BEAT - 1) >> LBEAT;
        end else begin
          wq_par[1] <= e_par;
          wq_nb[1]  <= (e_ob + BEAT - 1) >> LBEAT;
        end
      end
      wq_n <= wq_n + (push ? 2'd1 : 2'd0) - (pop ? 2'd1 : 2'd0);
      w_out <= w_out + {31'd0, wr_req_valid} - {28'd0, wr_done_count};
      fin <= fin + fin_now[15:0];
    end
  end

  assign ev_start = start_now;
  assign ev_load_done = streaming && cnt == 0;
  assign ev_stream_done = ev_sd;
  assign ev_drain_done = drain_now;
  assign ev_edge_accept = take_now;
  assign ev_edge_finish = fin_now[1:0];
endmodule
