// tile_ws: one int8 compute tile, weight-stationary (OS = 0) or output-stationary (OS = 1: see
// "Output-stationary" below), running GEMM tiles of w8a8, w4a8-is, w4a8-fs, w4a8-dgq, w4a8-qserve,
// (with dint4 PEs, PE = 1 or 2) w4a8-dint and (WS, with block-scale lanes, BLK_UNITS > 0)
// w8a8-mxint8 (int8 PEs) or w4a8-mx (E2M1 x E4M3 PEs, PE = 3), with
// single-buffered (WBANKS = 1: the `array_single` path of the accelerator model's core,
// models/arch/core/core.cpp) or double-buffered weights (WBANKS = 2: `array_double_cycle`, the
// rules of units::WsDoubleBufferedSchedule), with its fetch DMA, buffer slots, edge queue
// (integer-scale accumulators and epilogue) and write DMA (models/arch/dma, sram/buffer_slots,
// core/tile_timing.hpp), cycle for cycle. Issue 20; tests/tile runs it against the SystemC
// model's cycle mode.
//
// What it executes: the same tile commands the SystemC core executes (arch::Tile, from
// sim/mapping's plan_gemm), one per weight tile, n-tile outer, k-tile inner, written before the
// run into its command memory, 32 words of 32 bits a tile: word 32 t + f of tile t (cmd_we,
// cmd_addr, cmd_data), ntiles of them:
//    0 m (tokens)        1 rows_used        2 cols_used     3 k0
//    4 flags: bit 0 first_k, bit 1 last_k, bit 2 psum_chained, bit 3 w4a8-is, bit 4 w4a8-fs,
//      bit 5 w4a8-dgq, bit 6 w4a8-qserve (fused dequantizers; WS only) (none: w8a8); bit 7
//      keep the fetched weights in the resident store, bit 8 the weights are resident there
//      (weight_bytes 0), bit 9 per-tensor activation scales, bit 10 the tensor's scale comes
//      with this tile, bit 11 w4a8-dint (the tile's PEs are dint4: PE = 1 or 2), bit 12 a
//      block scheme (BLK_UNITS > 0, WS): w8a8-mxint8 on int8 PEs, w4a8-mx on PE = 3 (the only
//      scheme those PEs run besides w4a4-mxfp4: bits 12 and 13, E2M1 activations, and, with
//      BLK_NV, w4a4-nvfp4: bits 12, 13 and 14, E4M3 block scales per 16)
//    5 weight_bytes      6 act_bytes        7 out_bytes     8 epilogue_ops
//    9 in_addr: where the tile's operands start in memory
//   10 out_addr: where its fp16 outputs go (last_k tiles)
//   11 spill bytes (read + write)  12 rescale_ops  13 dequant_ops  14 stream_steps  15 n0
//   16 group size G (w4a8-is, -fs, -dgq; the block schemes: the block, 32)
//   17 alpha bits b (w4a8-is: S = RNE(s 2^b); else 0)
//   18 scale_writes     19 scale_reads
//   20 layers closed before this tile's fetch may leave (the first tile of a layer that reads
//      the layers before it: its index; else 0)
//   21 the last tile of this tile's layer
//   22 weight_read_bytes (the weight port's bytes for the load)
//   23 x_bytes_per_step, 24 psum_in_bytes_per_step, 25 psum_out_bytes_per_step (the ifmap and
//      ofmap ports' bytes for each stream step)
//   26 the tile's m-block (its tokens' block, 0, 1, ... in the order they run; 0 without
//      m-blocks)
//   27 the resident store's offset of the tile's weights (flags 7, 8)
//   28, 29 w4a4-nvfp4: the activations' and the weights' per-tensor fp32 scales s_tx, s_tw
//      (binary32 bits; else not read)                                       30, 31 not read
// Words 9, 10, 16, 17, 20, 21 and 27 to 29 are the harness's memory layout, the layer's numerics
// and the run's layers (the model's tiles have no addresses and no amplifier; its layers are
// LayerWork's, `after` a chain here); 15 is not read. A command the tile cannot run
// (spills, dequantizers other than DGQ's and QServe's on WS, sizes beyond the parameters, byte
// counts or edge work that are not this layout's and the scheme's) sets `error` instead of being
// guessed at.
//
// Memory layout of a tile's operands (in_addr, weight_bytes + act_bytes bytes, one request):
//   w8a8     the weight codes (rows_used rows k0 .. k0 + rows_used - 1 of cols_used int8 codes
//            each), then the cols_used fp16 channel scales when k0 = 0;
//   w4a8-is  the same codes as 4-bit two's complement, two a byte, low nibble first, packed
//            over the whole tile (code r cols_used + c in nibble r cols_used + c), then the
//            cols_used int16 integer scales S of the group when the tile starts one (k0 % G = 0);
//   w4a8-fs  as w4a8-is, with the group's cols_used fp16 scales s in place of S;
//   w4a8-dgq one nibble stream, low nibble first: the uint4 codes in the load's order (row
//            rows_used - 1 first, then rows_used - 2, ..., each row's cols_used codes), then,
//            when the tile starts a group, the group's cols_used uint4 zeros and cols_used int8
//            S2 (3 cols_used nibbles), padded to a byte; then the cols_used fp16 channel scales
//            s1 when k0 = 0 (the plan's ceil(codes / 2 + 1.5 cols_used) + 2 cols_used bytes);
//   w4a8-qserve as w4a8-dgq, with the uint8 level-1 scales s1 in place of S2 and the fp16
//            level-0 channel scales s0 in place of s1;
//   w4a8-dint the dint4 codes packed as w4a8-is's, then the cols_used fp16 channel scales s_w
//            when k0 = 0 (w8a8's): the tile chains over K and scales as w8a8, the PEs
//            multiplying w2 = 2 value (pe_mul) and the epilogue halving the scale product;
//   w8a8-mxint8 the MXINT8 codes as w8a8's, then the cols_used E8M0 block scales (a byte each)
//            when the tile starts a block (k0 % G = 0) (w4a8-mx, w4a4-mxfp4: the E2M1 codes
//            packed as w4a8-is's, then the same scales); its activations: the m rows of
//            rows_used MXINT8 codes (w4a8-mx: E4M3 codes; w4a4-mxfp4: E2M1 codes, two a byte,
//            low nibble first, rows_used even), then its share of the block's E8M0 activation
//            scales: k-tile j = (k0 % G) / rows_used of the block carries those of tokens
//            j c .. j c + c - 1, c = ceil(m rows_used / G) (the plan's ceil(m rows_used (e + 1 /
//            G)) bytes, e the element's bytes; 0 past the last token). MXINT8's code -128 is
//            invalid and worth 0 [spec choice]: the load and the stream put 0 into the array
//            for it; w4a4-nvfp4: w4a4-mxfp4's layout with E4M3 block scales per 16 (G = 16) in
//            the E8M0 ones' places;
// then, all, when act_bytes > 0 the activations (m rows of rows_used int8 codes, token-major)
// and, when first_k, the m fp32 token scales; little endian. Outputs (out_addr, out_bytes): m
// rows of cols_used fp16, token-major.
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
//   array       around the register-level systolic_array (WBANKS banks of weights). A tile's
//               load starts (`start`) once the load port is free (the previous load is over),
//               its operands are in, and the edge has taken tile g - WBANKS: with one bank the
//               previous tile (Core::array_single: the array is empty and its results handed
//               off), with two the bank's previous user (Core::gate: tile g - 2 done and taken).
//               The load is ROWS cycles (row ROWS-1 first) into bank g % WBANKS; the tile
//               streams its m tokens once loaded and the previous stream is over (at once with
//               one bank); each result belongs to the oldest tile with results outstanding,
//               and a tile is done when its last result shows. Partial sums chain over the
//               k-tiles of a chain (an n-tile for w8a8, a group for w4a8-is): with one bank
//               through psum_in from the ofmap, with two added where the results leave the
//               array (read-modify-write of the ofmap: the double-buffered protocol). Each
//               chain has its own ofmap region (2 regions with one bank, 4 with two: the edge
//               may still read a chain while the array writes the next two), and the channel
//               scales or integer scales its first tile brings sit in a register file beside it.
//   resident x  the plan fetches the activations once (with the first n-tile's tiles) when they
//               fit the ifmap buffer (act_bytes = 0 for the later n-tiles): the stream copies
//               each token's row into the resident ifmap store as it enters, and the first tile
//               its token scales; later n-tiles stream from there. (Plans that fetch them again
//               are not run: see tests/tile.)
//   edge        EdgeQueue + TileTiming: the edge takes drained tiles in order, each once it is
//               free of the previous one, and is busy (ceil(rescale_ops / IS_UNITS) + IS_LAT,
//               when the tile ends a w4a8-is group; FS_UNITS and FS_LAT for w4a8-fs) +
//               (ceil(epilogue_ops / EPI_UNITS) + EPI_LAT, when it is a last k-tile) cycles, 0
//               when nothing to do. The rescale
//               phase: IS_UNITS lanes of intscale_acc work through the group's partial sums P
//               in flat (token-major) order, batch b in cycle accept + b: each reads P from the
//               chain's region, S from its scale registers and the output's accumulator (0 for
//               the layer's first group), registers acc + P S, then IS_LAT - 1 more registers,
//               then the accumulator's write: the last is readable at accept + batches + IS_LAT,
//               where the epilogue phase begins (w4a8-fs: the same lanes' floatscale_acc,
//               F32(F32(F32(P) s) + acc) with s the group's fp16 scale widened, into fp32
//               accumulators; the model's float-scale units: FS_UNITS lanes of FS_LAT, the
//               first FS_UNITS of max(IS_UNITS, FS_UNITS) lanes that hold both units;
//               w8a8-mxint8: BLK_UNITS lanes of BLK_LAT of mx_fp32_acc, F32(acc + F32(I
//               2^(sx + sw - 266))) with I the block's exact sum, sx the token's and sw the
//               column's E8M0 scale of the block, the model's block-scale units; BLK_FIXED:
//               mx_fixed_acc, acc + I 2^(sx + sw - 254 - u + BLK_FRAC) shifted, rounded and
//               wrapped in BLK_ACC bits, into the integer-scale accumulators' registers,
//               BLK_ACC bits wide then).
//               The epilogue phase: EPI_UNITS lanes of epilogue_lane, batch b in cycle e0 + b,
//               reading the ofmap (w8a8) or the accumulators (w4a8-is; w4a8-fs as fp32, its
//               second scale 1; the block schemes as fp32, both scales 1: y = F16(acc);
//               fixed: as a BLK_ACC-bit integer with s_2 = 2^-BLK_FRAC; NVFP4: 2^-u, then
//               s_tx s_tw),
//               registered, EPI_LAT - 1 more registers, then the output buffer's write: the
//               last output is readable at the model's finish.
//   resident    weights kept across m-blocks (WS) or m-tiles (OS), the plan's when they fit the
//   weights     weight buffer: a kept tile's weight bytes go into the store (WRES bytes) at its
//               offset as its beats arrive; a resident tile reads its rows, codes and scales
//               there (ports 0 and 1, as from a slot). A fetch of 0 bytes (weights and
//               activations resident) is ready as it issues (FetchDma), with no request served.
//   DGQ         the fused dequantizers (ArrayModel's load rule max(ROWS, port, ceil(dequant_ops
//               / DQ_UNITS))): DQ_UNITS lanes, each DGQ's dequant_dgq and QServe's (uint8
//               scale, [-128, 127]) picked by the scheme, a code a lane a cycle in the load's
//               order, into staging rows; the array shifts the zero rows at once and each real
//               row as soon as it is complete (see the block below). A DGQ tile then streams and
//               chains as w8a8, and its epilogue is w8a8's with s1 as the channel scale.
//   layers      LayerBarrier: the tiles of several layers run in one stream. (With several
//               cores, ext_barrier: the layer closes when every core's share has; the tile
//               closes its own share, ev_layer_close, and the harness combines them.) A layer
//               closes when its last tile is finished and every write is complete (WriteDma), in
//               order; a layer that reads earlier layers has its first fetch wait until they
//               are closed (word 20: the latest's index + 1; FetchDma), the cycle they close at
//               the earliest. A layer that reads none (an independent one) does not wait: it
//               overlaps the layers before it.
//   write DMA   WriteDma: a finished tile with outputs is written at its finish cycle, one
//               request of out_bytes (wr_req_*, lane 0), its data streamed from its output
//               buffer (OBUFS, one per written tile in turn) in beats from the next cycle; a
//               tile of a layer later than the open one (overlapping layers) waits in the job
//               ring until that layer closes, and the waiting writes then leave in the close
//               cycle, a lane each in order (the model's writer takes its jobs in order, a
//               layer's last waiting for the layer's writes); `done` when every tile is
//               finished and every write complete (wr_done_count per cycle).
// Timing only comes from those rules: every buffer port moves a row a cycle (the model's port
// rules with ample bytes_per_cycle) and every memory has asynchronous reads (flat_mem).
//
// Output-stationary (OS = 1: array.dataflow os; OsArrayModel, the same core loops). The array is
// systolic_os with WBANKS accumulator banks (2: shadow accumulators); the commands are
// plan_gemm_os's: an m-tile of m <= ROWS tokens (m0 moves on: each m-tile is an m-block, word
// 26), COLS channels, a k-chunk (all of K for w8a8; one group for w4a8-is/-fs, one block for
// w8a8-mxint8 and w4a8-mx, so every chunk starts from 0 and nothing chains), stream_steps =
// rows_used. Words 23, 24: the ifmap and weight ports' bytes a k-step (m, the block schemes'
// ceil(m (1 + 1 / G)); cols_used codes), 25: 0. The block schemes' operands: k-major codes,
// then the m tokens' block scales (read in the first step), the weights' as on WS (E2M1
// activations are refused on OS). What differs from WS:
//   "load"      no weight load: the tile waits L cycles, the least with (steps + L) X_BPC >=
//               steps x_bytes and (steps + L) W_BPC >= steps w_bytes (the ports can then feed
//               one step a cycle to the end: OsArrayModel::load_cycles); L = 0 loads it in its
//               start cycle, and it may stream in that cycle. A tile starts only while the
//               stream is idle and no loaded tile waits (load_overlaps_stream false).
//   stream      one k a cycle, no bubbles: the streaming tile's weight row of that k (slot port
//               0) and the m tokens' activations of that k (the operand layout is k-major:
//               rows_used rows of m codes, then the m token scales, all read in the first
//               step); resident activations are kept a row per k (xmem[k]).
//   two banks   a stream may not end sooner than ROWS cycles after the previous one
//               (stream_may_start): os_gap counts down from ROWS at each stream's end and a
//               stream of s steps starts once s >= os_gap.
//   results     ROWS rows a tile, bottom first; row r is token r (rows r >= m are the array's
//               zeros of a ragged m-tile, not written); each tile has its own ofmap region.
// The edge, scale registers, write DMA and layers are as for WS.
//
// Parameters: ROWS x COLS array; WBANKS weight banks (1 or 2: array.double_buffer; OS: accumulator
// banks); OS (0 or 1: array.dataflow ws or os); DEPTH slots
// (buffers.prefetch_depth); EPI_UNITS lanes (a power of two) and EPI_LAT latency (>= 1) of the
// epilogue (edge.epilogue_units, epilogue_latency_cycles); IS_UNITS lanes (a power of two) and
// IS_LAT latency (>= 1) of the integer-scale accumulators (edge.intscale_units,
// intscale_latency_cycles; 32-bit accumulators, edge.intscale_acc_bits); FS_UNITS lanes (a power
// of two) and FS_LAT latency (>= 1) of the float-scale units (edge.floatscale_units,
// floatscale_latency_cycles); DQ_UNITS lanes of the fused DGQ dequantizers (edge.dequant_units);
// X_BPC, W_BPC, O_BPC the ifmap, weight and ofmap ports' bytes a
// cycle (buffers.*.bytes_per_cycle); BEAT bytes a memory data beat (a power of two, >= 2 COLS,
// >= ROWS; OS: >= 4 ROWS, the token scales' one read); M_MAX tokens, KT_MAX k-tiles of resident
// activations (OS: KT_MAX M_MAX k), NT_MAX tiles, SLOT_WORDS beats a slot (powers of two); WRES
// bytes of the resident weight store (a power of two); PE the PEs (0 int8, 1 / 2 dint4 of value
// set A / B, 3 E2M1 x E4M3: pe_mul); PE_STAGES the PEs' register stages (WS; OS arrays have
// 1); BLK_UNITS lanes (0: none) and BLK_LAT latency of the block-scale accumulators
// (edge.block_units, block_latency_cycles; edge.block_acc fp32, or fixed with BLK_FIXED:
// BLK_ACC bits, BLK_FRAC fraction bits); BLK_NV their NVFP4 units.
//
// Debug outputs (pulses; each kind happens in tile order, so the n-th pulse is the n-th tile's):
// ev_start (first load cycle), ev_load_done (the cycle after the last load cycle),
// ev_stream_start (first stream cycle), ev_stream_done (first cycle after the stream: the slot
// is free), ev_drain_done (the last result shows), ev_edge_accept and ev_edge_finish (counts: a
// tile with no edge work finishes in its accept cycle, which may be another tile's finish
// cycle, and the edge may take the next pending tile in that same cycle), ev_layer_close (a
// layer closes: the n-th pulse is layer n's). Fetch issues are rd_req_valid's lanes, write
// issues wr_req_valid's lanes. Counters: n_scale_wr / n_scale_rd, the words written into and
// read from the integer scales' register files (LayerStats::scale_writes, scale_reads); n_is_ovf, the
// integer-scale steps whose exact acc + P S left 32 bits (the reference's intscale_acc overflow
// events; with fixed block accumulators, BLK_FIXED, also their steps' term and add overflows,
// each counted, the reference's block_acc events), n_blk_rnd (the fixed block steps whose
// alignment discarded a non-zero remainder: its block_align_round events); n_dq_ovf, the
// dequantized DGQ weights whose exact (q - z) S2 left [-127, 127] (the
// reference's dequant_range events; QServe's: out of [-128, 127]; clamped). `error` (sticky
// bits): 0 a command it cannot run, 1 a fetch of 0 bytes or more than a slot, 2 beats beyond a
// request or missing at its completion, 3 activations or token scales read before fetched, 4 a
// result with no tile streamed, a loaded tile with no room to wait or a drained tile with no
// room in the edge's queue, 5 the write queue overrun (more finished tiles waiting or
// streaming than OBUFS) or an output buffer filled before written out,
// 6 a tile index beyond NT_MAX, 7 the array writing a chain's region (or its scales) while the
// edge still reads it.
module tile_ws #(
    parameter integer ROWS       = 4,
    parameter integer COLS       = 4,
    parameter integer WBANKS     = 1,
    parameter integer OS         = 0,
    parameter integer DEPTH      = 2,
    parameter integer EPI_UNITS  = 4,
    parameter integer EPI_LAT    = 2,
    parameter integer IS_UNITS   = 2,
    parameter integer IS_LAT     = 1,
    parameter integer FS_UNITS   = 2,
    parameter integer FS_LAT     = 1,
    parameter integer DQ_UNITS   = 4,
    parameter integer X_BPC      = 64,
    parameter integer W_BPC      = 64,
    parameter integer O_BPC      = 128,
    parameter integer BEAT       = 16,
    parameter integer M_MAX      = 64,
    parameter integer KT_MAX     = 16,
    parameter integer NT_MAX     = 256,
    parameter integer SLOT_WORDS = 64,
    parameter integer WRES       = 2048,
    // The PEs (array.pe): 0 int8; 1 / 2 dint4 with value set A / B (trace dint_set), which run
    // w4a8-dint and nothing else; 3 fp4xfp8 (E2M1 weights x E4M3 activations), which run the
    // block schemes w4a8-mx, w4a4-mxfp4 and (BLK_NV) w4a4-nvfp4 and nothing else (with
    // BLK_UNITS > 0); 4 fp4 (E2M1 x E2M1, the activations' codes as they are, the lanes' u = 2),
    // which run w4a4-mxfp4 and (BLK_NV) w4a4-nvfp4 only.
    parameter integer PE         = 0,
    // Register stages of a PE's multiply-add (array.pe_stages; WS only): the array's results
    // come (PE_STAGES - 1) ROWS cycles later (systolic_array's "Pipelined PEs"); nothing else in
    // the tile changes, its rules keyed to the results it sees.
    parameter integer PE_STAGES  = 1,
    // Block-scale accumulators (edge.block_units, block_latency_cycles; 0 lanes: none, and the
    // tile runs no block scheme): BLK_UNITS lanes (a power of two) of mx_fp32_acc, BLK_LAT >= 1.
    parameter integer BLK_UNITS  = 0,
    parameter integer BLK_LAT    = 1,
    // NVFP4 (PE = 3 and BLK_UNITS > 0 only): 1 builds an nvfp4_fp32_acc beside each lane's
    // mx_fp32_acc and the epilogue lanes' 2^-u multiply (epilogue_lane UNIT), for w4a4-nvfp4.
    parameter integer BLK_NV     = 0,
    // The block lanes' accumulation (edge.block_acc): 0 fp32 (mx_fp32_acc); 1 fixed
    // (mx_fixed_acc: BLK_ACC-bit accumulators, edge.block_acc_bits, in the integer-scale ones'
    // registers, then that wide, with BLK_FRAC fraction bits, edge.block_frac_bits; MX only, as
    // the spec).
    parameter integer BLK_FIXED  = 0,
    parameter integer BLK_FRAC   = 16,
    parameter integer BLK_ACC    = 32,  // (32..64; read with BLK_FIXED only)
    // Output buffers (a power of two, >= 2): one finished tile's fp16 outputs each, from the
    // edge's epilogue until its write's data has streamed out. A write of a later layer waits
    // there until the earlier layer closes (WriteDma), so overlapping layers need more than
    // two. Also the write request lanes: the waiting writes all leave in the close cycle.
    parameter integer OBUFS      = 2,
    // Derived (not to be set): slot number bits, command word address bits.
    parameter integer SW         = DEPTH > 1 ? $clog2(DEPTH) : 1,
    parameter integer CAW        = $clog2(NT_MAX) + 5
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  cmd_we,
    input  wire [       CAW-1:0] cmd_addr,
    input  wire [          31:0] cmd_data,
    input  wire [          15:0] ntiles,
    input  wire                  run,
    // Several cores (the harness as the LayerEnds of the model): with ext_barrier the layers
    // closed on every core, this cycle's closes included, gate the fetches (word 20) instead of
    // this tile's own.
    input  wire                  ext_barrier,
    input  wire [          15:0] ext_closed,
    output wire [     DEPTH-1:0] rd_req_valid,
    output wire [  DEPTH*32-1:0] rd_req_addr,
    output wire [  DEPTH*32-1:0] rd_req_bytes,
    output wire [  DEPTH*SW-1:0] rd_req_slot,
    input  wire                  rd_beat_valid,
    input  wire [        SW-1:0] rd_beat_slot,
    input  wire [    BEAT*8-1:0] rd_beat_data,
    input  wire [     DEPTH-1:0] rd_done,
    output wire [     OBUFS-1:0] wr_req_valid,
    output wire [  OBUFS*32-1:0] wr_req_addr,
    output wire [  OBUFS*32-1:0] wr_req_bytes,
    output wire                  wr_beat_valid,
    output wire [    BEAT*8-1:0] wr_beat_data,
    input  wire [           3:0] wr_done_count,
    output wire                  done,
    output wire [           7:0] error,
    output wire                  ev_start,
    output wire                  ev_load_done,
    output wire                  ev_stream_start,
    output wire                  ev_stream_done,
    output wire                  ev_drain_done,
    output wire [           1:0] ev_edge_accept,
    output wire [           1:0] ev_edge_finish,
    output wire                  ev_layer_close,
    output reg  [          31:0] n_scale_wr,
    output reg  [          31:0] n_scale_rd,
    output reg  [          31:0] n_is_ovf,
    output reg  [          31:0] n_blk_rnd,
    output reg  [          31:0] n_dq_ovf
);
  localparam integer U = EPI_UNITS;
  localparam integer LU = $clog2(U);
  localparam integer UI = IS_UNITS;
  localparam integer LUI = $clog2(UI);
  localparam integer UF = FS_UNITS;
  localparam integer LUF = $clog2(UF);
  localparam integer UB = BLK_UNITS > 0 ? BLK_UNITS : 1;  // (1: no lanes issue; none built)
  // The element pair's u of the block sums the PEs make (MXINT8 12, E2M1 x E4M3 10 (E2M1
  // activations widened to E4M3 too), E2M1 x E2M1 2): the block lanes' and NVFP4's epilogue's.
  localparam integer BU = PE == 4 ? 2 : PE == 3 ? 10 : 12;
  // The accumulators' store: a word an output, 32 bits (int32 or binary32), or the fixed block
  // accumulators' BLK_ACC (the other schemes use its low 32 bits).
  localparam integer EW = BLK_FIXED != 0 && BLK_ACC > 32 ? BLK_ACC : 32;
  localparam integer LUB = $clog2(UB);
  localparam integer UIF = UI > UF ? UI : UF;
  localparam integer UR = UIF > BLK_UNITS ? UIF : BLK_UNITS;  // rescale lanes (each scheme its own)
  localparam integer UMAX = U > UR ? U : UR;
  localparam integer TW = 16;  // tile numbers
  localparam integer TI = CAW - 5;  // tile index bits of the command memory
  // Slots: BEAT byte banks of SLOT_WORDS words, four read ports (load: weight rows and scales;
  // stream: activation rows and token scales).
  localparam integer SAW = $clog2(BEAT * SLOT_WORDS);
  localparam integer SLOT_BYTES = BEAT * SLOT_WORDS;
  localparam integer LBEAT = $clog2(BEAT);
  // Chains' regions of the ofmap (int32 partial sums, M_MAX x COLS each, token-major, packed
  // by cols_used) and their scale registers.
  localparam integer NREG = WBANKS == 2 ? 4 : 2;
  localparam integer LREG = $clog2(NREG);
  localparam integer NBO = 1 << $clog2(UMAX > COLS ? UMAX : (COLS > 1 ? COLS : 2));
  localparam integer HALF_O = 1 << $clog2(M_MAX * COLS);
  localparam integer LHO = $clog2(HALF_O);
  localparam integer OAW = LHO + LREG;
  // The integer-scale accumulators: one int32 per output of the n-tile (one n-tile at a time).
  localparam integer NBE = 1 << $clog2(UMAX > 1 ? UMAX : 2);
  // Output buffers: fp16, OBUFS of one tile each, read by the write DMA BEAT / 2 elements a beat.
  localparam integer NBF = 1 << $clog2(U > BEAT / 2 ? U : BEAT / 2);
  localparam integer OBW = $clog2(OBUFS);
  localparam integer FAW = LHO + OBW;
  localparam integer KW = $clog2(KT_MAX);
  localparam integer LM = $clog2(M_MAX);
  localparam integer XAW = KW + LM;
  localparam integer XDEPTH = KT_MAX * M_MAX;  // resident activation rows (WS: tokens; OS: k)

  // ---- the command memory ----------------------------------------------------------------------
  reg [31:0] cmem[0:NT_MAX*32-1];
  always @(posedge clk) if (cmd_we) cmem[cmd_addr] <= cmd_data;

  reg [6:0] err;  // error bits 0-4, 6 and 7 (as 5 and 6); bit 5 is err5 (the edge's block)
  reg err5;
  assign error = {err[6], err[5], err5, err[4:0]};

  // ---- fetch DMA --------------------------------------------------------------------------------
  reg  [TW-1:0] issued;  // tiles whose fetch is issued
  reg  [TW-1:0] released;  // tiles whose slot is free again
  reg  [SW-1:0] iss_slot;  // the slot of tile `issued`
  reg  [DEPTH-1:0] slot_ready;  // the slot's fetch is complete, its tile not started
  reg  [31:0] slot_beats[0:DEPTH-1];  // beats its request returns
  reg  [31:0] beat_cnt[0:DEPTH-1];  // beats received
  // Resident weights: the slot's fetch brings weights to keep (flag bit 7) at slot_roff in the
  // resident store, slot_wb bytes of them.
  reg  [DEPTH-1:0] slot_keep;
  reg  [31:0] slot_roff[0:DEPTH-1];
  reg  [31:0] slot_wb[0:DEPTH-1];
  wire [DEPTH-1:0] lane_ok;
  wire [DEPTH*SW-1:0] lane_slot;
  wire [DEPTH*32-1:0] lane_bytes;
  wire [DEPTH-1:0] lane_keep;
  wire [DEPTH*32-1:0] lane_roff, lane_wb;
  wire [TW-1:0] closed_now;  // layers closed, this cycle's close included (below)
  genvar j;
  generate
    for (j = 0; j < DEPTH; j = j + 1) begin : g_lane
      wire [31:0] li = {16'd0, issued} + j;
      wire [TI-1:0] ti = li[TI-1:0];
      wire prev_ok;
      if (j == 0) begin : g_first
        assign prev_ok = run;
      end else begin : g_next
        assign prev_ok = g_lane[j-1].ok;
      end
      // Tile li may go once li - DEPTH has released its slot (the first DEPTH at once).
      wire ok = prev_ok && li < {16'd0, ntiles} && (li < DEPTH || {16'd0, released} + DEPTH > li)
          && cmem[{ti, 5'd20}] <= {16'd0, ext_barrier ? ext_closed : closed_now};
      assign lane_ok[j] = ok;
      wire [SW:0] s = {1'b0, iss_slot} + j[SW:0];
      assign lane_slot[SW*j+:SW] = s >= DEPTH[SW:0] ? SW'(s - DEPTH[SW:0]) : s[SW-1:0];
      assign lane_bytes[32*j+:32] = cmem[{ti, 5'd5}] + cmem[{ti, 5'd6}];
      /* verilator lint_off UNUSEDSIGNAL */
      wire [31:0] fl = cmem[{ti, 5'd4}];
      /* verilator lint_on UNUSEDSIGNAL */
      assign lane_keep[j] = fl[7];
      assign lane_roff[32*j+:32] = cmem[{ti, 5'd27}];
      assign lane_wb[32*j+:32] = cmem[{ti, 5'd5}];
      assign rd_req_addr[32*j+:32] = cmem[{ti, 5'd9}];
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
  // A fetch of 0 bytes (weights resident, activations too) asks the memory for nothing: its
  // tile's operands are in as it issues (FetchDma: ready at the issue cycle).
  reg [DEPTH-1:0] zero_now;
  integer zi;
  always @* begin
    zero_now = 0;
    for (zi = 0; zi < DEPTH; zi = zi + 1)
      if (lane_ok[zi] && lane_bytes[32*zi+:32] == 0) zero_now[lane_slot[SW*zi+:SW]] = 1'b1;
  end
  wire [DEPTH-1:0] ready_now = slot_ready | rd_done | zero_now;
  wire [31:0] iss_sum = {{(32 - SW) {1'b0}}, iss_slot} + {16'd0, n_issue};
  wire [SW-1:0] next_iss_slot = SW'(iss_sum % DEPTH);

  // ---- buffer slots -----------------------------------------------------------------------------
  // Read ports: 0 weight rows, 1 the chain's scales (load start), from the loading tile's slot;
  // 2 activation rows, 3 token scales, from the streaming tile's.
  wire [SAW-1:0] slot_ra0, slot_ra1, slot_ra2, slot_ra3;
  wire [SW-1:0] lslot, sslot;
  wire [4*BEAT*8-1:0] slot_q[0:DEPTH-1];
  generate
    for (j = 0; j < DEPTH; j = j + 1) begin : g_slot
      flat_mem #(
          .EW(8),
          .NB(BEAT),
          .WORDS(SLOT_WORDS),
          .NR(4),
          .AW(SAW)
      ) mem (
          .clk(clk),
          .we(rd_beat_valid && rd_beat_slot == SW'(j)),
          .waddr({beat_cnt[j][SAW-LBEAT-1:0], {LBEAT{1'b0}}}),
          .wcount(BEAT[LBEAT:0]),
          .wdata(rd_beat_data),
          .raddr({slot_ra3, slot_ra2, slot_ra1, slot_ra0}),
          .rdata(slot_q[j])
      );
    end
  endgenerate
  /* verilator lint_off UNUSEDSIGNAL */  // (each side reads its two ports, a row or a scale)
  wire [4*BEAT*8-1:0] lq = slot_q[lslot];
  wire [4*BEAT*8-1:0] sq = slot_q[sslot];
  // Port 0: weight rows, for the load (WS) or the stream (OS: a row of weights a k-step).
  wire [4*BEAT*8-1:0] wq = OS != 0 ? sq : lq;
  // The resident store: weights kept from their first fetch (flag bit 7) for the tiles that
  // find them resident (bit 8, weight_bytes 0: the plan's weights kept across m-blocks or OS
  // m-tiles), at the tile's offset (word 27). The DMA writes a kept tile's weight bytes into it
  // as its beats arrive; port 0 reads weight rows or codes (the loading tile's; OS the
  // streaming tile's), port 1 the group's and channels' scales (the loading tile's), as from a
  // slot.
  localparam integer RAW = $clog2(WRES);
  wire r0_res, r1_res;  // the tile using port 0 / 1 has its weights resident
  wire [31:0] r0_off, r1_off;
  wire [2*BEAT*8-1:0] res_q;
  wire [31:0] kb_slot_beat = rd_beat_valid ? beat_cnt[rd_beat_slot] : 32'd0;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] kb_at = kb_slot_beat << LBEAT;
  wire [31:0] kb_left = slot_wb[rd_beat_slot] - kb_at;
  wire [31:0] kb_addr = slot_roff[rd_beat_slot] + kb_at;
  wire [31:0] ra0_w, ra1_w;  // (the slots' port 0 and 1 offsets, below)
  wire [31:0] rr0 = r0_off + ra0_w, rr1 = r1_off + ra1_w;
  /* verilator lint_on UNUSEDSIGNAL */
  wire kb_we = rd_beat_valid && slot_keep[rd_beat_slot] && kb_at < slot_wb[rd_beat_slot];
  flat_mem #(
      .EW(8),
      .NB(BEAT),
      .WORDS(WRES / BEAT),
      .NR(2),
      .AW(RAW)
  ) resmem (
      .clk(clk),
      .we(kb_we),
      .waddr(kb_addr[RAW-1:0]),
      .wcount(kb_left >= BEAT ? BEAT[LBEAT:0] : kb_left[LBEAT:0]),
      .wdata(rd_beat_data),
      .raddr({rr1[RAW-1:0], rr0[RAW-1:0]}),
      .rdata(res_q)
  );
  wire [BEAT*8-1:0] sq0 = r0_res ? res_q[0+:BEAT*8] : wq[0+:BEAT*8];
  wire [BEAT*8-1:0] sq1 = r1_res ? res_q[BEAT*8+:BEAT*8] : lq[BEAT*8+:BEAT*8];
  wire [BEAT*8-1:0] sq2 = sq[2*BEAT*8+:BEAT*8];
  wire [BEAT*8-1:0] sq3 = sq[3*BEAT*8+:BEAT*8];
  /* verilator lint_on UNUSEDSIGNAL */

  // ---- array controller -------------------------------------------------------------------------
  reg [TW-1:0] ga;  // the next tile to start (its load)
  reg [SW-1:0] nslot;  // its slot
  reg [LREG-1:0] lreg;  // the region of the last tile started
  reg [LREG-1:0] rg[0:NT_MAX-1];  // each started tile's region
  // The load: in progress after its first cycle (ld_on), at row counter ld_cnt.
  reg ld_on, ld_fin;
  reg [31:0] ld_cnt;
  reg [TW-1:0] ld_tile;
  reg [SW-1:0] ld_slot;
  // A loaded tile waiting for the stream.
  reg wt_valid;
  reg [TW-1:0] wt_tile;
  reg [SW-1:0] wt_slot;
  // The stream: in progress after its first cycle (st_on), at token st_tok; each port's credit
  // (bytes delivered from the stream's start less the steps' bytes taken: st_cx, st_cpi, st_cpo).
  reg st_on, st_fin;
  reg [31:0] st_tok, st_cx, st_cpi, st_cpo;
  reg [TW-1:0] st_tile;
  reg [SW-1:0] st_slot;
  reg [TW-1:0] nstreamed;  // tiles whose stream started
  // Results: of the oldest tile with results outstanding (rs_tile), res of them so far.
  reg [TW-1:0] rs_tile;
  reg [31:0] res;
  // Drained tiles waiting for the edge (at most two: tile g + 2 waits for the edge to take g).
  // The edge may take two in one cycle: a tile with no edge work frees it at once.
  reg [1:0] hq_n;
  reg [TW-1:0] hq0, hq1;
  reg [TW-1:0] taken;  // tiles the edge has taken
  reg [KT_MAX-1:0] blk_valid;  // resident activation blocks fetched
  reg xs_valid;  // token scales fetched

  // -- the load: tile lt (starting now, or loading) --
  wire edge_free;
  wire take0, take1;  // the edge takes the first (and the second) pending tile
  /* verilator lint_off UNUSEDSIGNAL */  // (tile numbers beyond NT_MAX: error bit 6)
  wire [31:0] taken_now = {16'd0, taken} + {31'd0, take0} + {31'd0, take1};
  wire [TW-1:0] lt = ld_on ? ld_tile : ga;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [TI-1:0] lt_i = lt[TI-1:0];
  wire [31:0] l_m = cmem[{lt_i, 5'd0}], l_ru = cmem[{lt_i, 5'd1}], l_nc = cmem[{lt_i, 5'd2}];
  wire [31:0] l_k0 = cmem[{lt_i, 5'd3}], l_fl = cmem[{lt_i, 5'd4}];
  wire [31:0] l_wb = cmem[{lt_i, 5'd5}], l_ab = cmem[{lt_i, 5'd6}], l_ob = cmem[{lt_i, 5'd7}];
  wire [31:0] l_epi = cmem[{lt_i, 5'd8}], l_sp = cmem[{lt_i, 5'd11}];
  wire [31:0] l_rs = cmem[{lt_i, 5'd12}], l_dq = cmem[{lt_i, 5'd13}];
  wire [31:0] l_steps = cmem[{lt_i, 5'd14}], l_g = cmem[{lt_i, 5'd16}];
  wire [31:0] l_bits = cmem[{lt_i, 5'd17}];
  // The load's length: ROWS cycles of protocol, or as many as the weight port needs for the
  // tile's weight_read_bytes (ArrayModel::load_cycles); the rows shift in in the first ROWS.
  wire [31:0] l_wrb = cmem[{lt_i, 5'd22}];
  // OS: the ifmap and weight ports' bytes a k-step (words 23, 24).
  wire [31:0] l_xb = cmem[{lt_i, 5'd23}], l_wps = cmem[{lt_i, 5'd24}];
  /* verilator lint_off UNUSEDSIGNAL */  // (WS: word 25 is the stream's; OS checks it is 0)
  wire [31:0] l_w25 = cmem[{lt_i, 5'd25}];
  /* verilator lint_on UNUSEDSIGNAL */
  wire [31:0] l_swr = cmem[{lt_i, 5'd18}], l_srd = cmem[{lt_i, 5'd19}];
  wire l_first = l_fl[0], l_last = l_fl[1], l_chained = l_fl[2], l_is = l_fl[3], l_fs = l_fl[4];
  // The two-level schemes, w4a8-dgq (flag bit 5) and w4a8-qserve (bit 6): uint4 group codes
  // dequantized to int8 as the tile loads (fused: (q - z) S2 in [-127, 127], (q - z) s1 in
  // [-128, 127]), then chained over all K as w8a8. They share the layout and the timing.
  wire l_qs = l_fl[6];
  wire l_tl = l_fl[5] || l_qs;
  // Resident weights: keep this fetch's weights (bit 7), or find them in the store (bit 8), at
  // word 27's offset.
  wire l_keep = l_fl[7], l_res = l_fl[8];
  // Per-tensor activation scales (bit 9): one fp32 scale for the tensor, fetched with its first
  // block's first-k tiles (bit 10), in place of the m token scales.
  wire l_pt = l_fl[9], l_ts = l_fl[10];
  // w4a8-dint (bit 11; only on dint4 PEs, PE = 1 or 2): 4-bit codes packed as w4a8-is's, chained
  // over all K and scaled per channel as w8a8 (the epilogue's extra 0.5: epilogue_lane HALF).
  wire l_dint = l_fl[11];
  // w8a8-mxint8 (bit 12; only with block-scale lanes, BLK_UNITS > 0, on int8 PEs, WS): MXINT8
  // codes a byte (w8a8's layout) with an E8M0 scale a byte per column and block of G along K
  // when the tile starts a block; the activations' codes with their E8M0 scales per token and
  // block, each k-tile of a block carrying its share (see the layout above). The partial sums
  // chain over a block and are rescaled at its end, as a group's.
  wire l_blk = BLK_UNITS > 0 && l_fl[12];  // (a constant 0 without lanes: no logic built)
  // w4a4-mxfp4 (bits 12 and 13; PE = 3 only): w4a8-mx with E2M1 activations, packed two a byte
  // (token-major, rows_used of them a token: rows_used must be even), each widened to the E4M3
  // code of the same value where it enters the array, so the PEs and the block lanes (u = 10)
  // are w4a8-mx's: the block sum is the reference's (u = 2) times 2^8, its term the same.
  wire l_x4 = (PE == 3 || PE == 4) && l_blk && l_fl[13];
  // w4a4-nvfp4 (bits 12, 13 and 14; BLK_NV only): w4a4-mxfp4's codes and layout with E4M3
  // block scales (a byte each, as the E8M0 ones) per G = 16, summed by the lanes'
  // nvfp4_fp32_acc; the epilogue applies 2^-u and the per-tensor scales of words 28 and 29.
  wire l_nv = BLK_NV != 0 && BLK_FIXED == 0 && l_x4 && l_fl[14];
  wire [31:0] l_roff = cmem[{lt_i, 5'd27}];
  // The group schemes (4-bit group weights, partial sums chained over a group, rescaled at its
  // end): w4a8-is and w4a8-fs share the layout and the timing, not the rescale's arithmetic.
  wire l_g4 = l_is || l_fs;  // 4-bit group codes (sign-extended nibbles)
  wire l_grp = l_g4 || l_blk;
  // The codes are nibbles, two a byte over the tile (w4a8-mx's E2M1 too: PE = 3).
  wire l_nib = l_g4 || l_dint || (PE >= 3 && l_blk);
  wire [31:0] l_g1 = l_g == 0 ? 32'd1 : l_g;  // (G = 0 is refused; no division by 0)
  wire l_gs = l_k0 % l_g1 == 0;  // the tile starts a group (w4a8-is, -fs, -dgq)
  wire l_ge = (l_k0 + l_ru) % l_g1 == 0;  // ... ends one
  // The chain's scales come with its first tile: w8a8 and DGQ channel scales (k0 = 0), w4a8-is
  // S, w4a8-fs s.
  wire l_has_cs = l_grp ? l_gs : l_k0 == 0;
  wire [31:0] l_codes = l_nib ? (l_ru * l_nc + 1) >> 1 : l_ru * l_nc;  // code bytes
  wire [31:0] l_mnc = l_m * l_nc;
  // DGQ's weight bytes: one nibble stream of the codes (ru nc), then, when the tile starts a
  // group, the nc zeros and the nc int8 S2 (3 nc nibbles), padded to a byte; then the fp16
  // channel scales when k0 = 0.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] dq_nib = l_ru * l_nc + (l_gs ? 32'd3 * l_nc : 32'd0);
  /* verilator lint_on UNUSEDSIGNAL */
  wire [31:0] dq_bytes = (dq_nib + 1) >> 1;
  // OS block schemes: the ifmap port's bytes a step, the plan's ceil(m (1 + 1 / G)) (the
  // activations' bytes a element count their block scales; the weights' do not: the weight
  // port's step is its codes', as for the group schemes).
  // (E2M1 activations: ceil(m (1/2 + 1 / G)), the step's m nibbles and its scales' share.)
  wire [31:0] os_xb_blk = l_x4 ? (l_m * (l_g1 + 32'd2) + 32'd2 * l_g1 - 32'd1) / (32'd2 * l_g1) :
      l_m + (l_m + l_g1 - 32'd1) / l_g1;
  // The command check (at the start cycle).
  wire [31:0] wb_want = l_tl ? dq_bytes + (l_k0 == 0 ? 32'd2 * l_nc : 32'd0) :
      l_codes + (l_has_cs ? (l_blk ? l_nc : 32'd2 * l_nc) : 32'd0);
  // (w8a8-mxint8: the plan's ceil(m rows_used (1 + 1 / G)) bytes, the codes' and a share of
  // the scales.)
  wire [31:0] ab_want = l_blk ? (l_x4 ? (l_m * l_ru) >> 1 : l_m * l_ru) +
      (l_m * l_ru + l_g1 - 1) / l_g1 :
      l_m * l_ru + (l_pt ? (l_ts ? 32'd4 : 32'd0) : l_first ? 32'd4 * l_m : 32'd0);
  // (w4a8-is: every k-tile has the plan's rows_used, gcd(ROWS, G), so k0 / rows_used numbers
  // the resident activations' blocks; w8a8's last k-tile may be short: k0 / ROWS. OS: every
  // k-chunk is a group, or all of K.)
  wire [31:0] l_kblk = l_grp || l_tl || OS != 0 ? l_k0 / l_ru : l_k0 / ROWS;
  wire is_ok = l_g >= 1 && l_bits <= 62 && (l_is || l_bits == 0) && l_g1 % l_ru == 0 &&
      l_k0 % l_ru == 0 &&
      l_chained == !l_gs && (!l_last || l_ge) && l_rs == (l_ge ? l_mnc : 32'd0) &&
      l_swr == (l_gs ? l_nc : 32'd0) && l_srd == l_rs;
  wire w8_ok = l_chained == !l_first && l_rs == 0 && l_swr == 0 && l_srd == 0 && l_dq == 0 &&
      l_bits == 0;
  // DGQ: a k-tile within one group (rows_used divides G), chained over K, every weight
  // dequantized once (one scale word read each), the group's scale words written at its start.
  wire dgq_ok = OS == 0 && l_g >= 1 && l_g1 % l_ru == 0 && l_k0 % l_ru == 0 &&
      l_chained == !l_first && l_rs == 0 && l_bits == 0 && l_dq == l_ru * l_nc &&
      l_swr == (l_gs ? l_nc : 32'd0) && l_srd == l_dq;
  // The dataflow's own: WS streams the m tokens through a k-tile of at most ROWS; OS streams
  // the k-chunk (at most the resident store's rows) into an m-tile of at most ROWS tokens, a
  // step bringing the m tokens' activations and the cols_used channels' weights of one k.
  wire df_ok = OS == 0 ?
      l_m <= M_MAX && l_steps == l_m && l_ru <= ROWS && (l_grp || l_tl || l_k0 % ROWS == 0) :
      l_m <= ROWS && l_steps == l_ru && l_k0 + l_ru <= XDEPTH && (l_grp || l_k0 == 0) &&
      l_xb == (l_blk ? os_xb_blk : l_m) && l_wps == (l_nib ? (l_nc + 1) >> 1 : l_nc) && l_w25 == 0;
  wire cmd_ok = l_m >= 1 && l_ru >= 1 && df_ok &&
      l_nc >= 1 && l_nc <= COLS && l_kblk < KT_MAX &&
      l_fl[31:15] == 17'd0 && l_fl[14] == l_nv && l_fl[13] == l_x4 && (!l_x4 || !l_ru[0]) &&
      (!l_blk || l_g == (l_nv ? 32'd16 : 32'd32)) &&
      l_dint == (PE == 1 || PE == 2) && (PE < 3 || l_blk) && (PE != 4 || l_x4) &&
      (OS == 0 || PE_STAGES == 1) &&
      (!l_ts || (l_pt && l_first && l_ab != 0)) &&
      l_fl[12] == l_blk && (!l_blk || ((PE == 0 || PE >= 3) && !l_pt)) &&
      {2'b0, l_is} + {2'b0, l_fs} + {2'b0, l_fl[5]} + {2'b0, l_qs} + {2'b0, l_dint} +
      {2'b0, l_blk} <= 3'd1 &&
      l_first == (l_k0 == 0) && (l_grp ? is_ok : l_tl ? dgq_ok : w8_ok) &&
      (l_res ? l_wb == 0 && l_wrb == wb_want && !l_keep : l_wb == wb_want) &&
      (!(l_res || l_keep) || l_roff + wb_want <= WRES) &&
      (l_ab == 0 || l_ab == ab_want) && l_wb + l_ab <= SLOT_BYTES &&
      (l_last ? l_ob == 32'd2 * l_mnc && l_epi == l_mnc : l_ob == 0 && l_epi == 0) &&
      l_sp == 0;
  // The start rule: the load port free, tile ga - WBANKS taken by the edge, operands in; OS:
  // and the stream idle with no tile waiting for it (the wait is for the ports the stream
  // reads: ArrayModel::load_overlaps_stream).
  wire start_now = run && ga < ntiles && !ld_on &&
      ({16'd0, ga} < WBANKS || taken_now + WBANKS > {16'd0, ga}) && ready_now[nslot] &&
      (OS == 0 || (!st_on && !wt_valid));
  wire loading = start_now || ld_on;
  wire [LREG-1:0] new_reg = l_chained ? lreg : lreg + 1'b1;  // the starting tile's region
  assign lslot = ld_on ? ld_slot : nslot;
  // WS load: row ROWS-1-i in load cycle i, 0 beyond rows_used / cols_used.
  wire [31:0] load_i = ld_on ? ld_cnt : 32'd0;
  // (Load cycle i is the last once i >= ROWS - 1 and the port has moved (i + 1) W_BPC >=
  // weight_read_bytes: a multiply by the parameter, no divider.)
  wire l_port_done = (load_i + 1) * W_BPC >= l_wrb;
  // OS "load": idle until the ifmap and weight ports, a step's bytes ahead of the stream from
  // then on, can feed one step a cycle to its end (ArrayModel's OS load_cycles: the wait is L,
  // the least with (steps + L) bytes_per_cycle >= steps bytes_per_step on both ports). L = 0:
  // the tile is loaded in its start cycle (os_l0); else the wait's cycle i is its last once
  // (steps + i + 1) bytes_per_cycle covers both.
  /* verilator lint_off UNUSEDSIGNAL */  // (WS: not read)
  wire [31:0] l_xtot = l_steps * l_xb, l_wtot = l_steps * l_wps;
  wire [31:0] os_after = l_steps + load_i + 1;
  /* verilator lint_on UNUSEDSIGNAL */
  wire os_l0 = OS != 0 && start_now && l_steps * X_BPC >= l_xtot && l_steps * W_BPC >= l_wtot;
  wire os_port_done = os_after * X_BPC >= l_xtot && os_after * W_BPC >= l_wtot;
  wire dq_last;  // (the DGQ dequantizers' load: below)
  wire load_last = loading && !os_l0 &&
      (OS != 0 ? os_port_done : l_tl ? dq_last : load_i >= ROWS - 1 && l_port_done);
  wire [31:0] row_r = ROWS - 1 - load_i;

  // -- the stream: tile stt (starting now, or streaming; OS: perhaps the tile starting now) --
  // OS with shadow accumulators: a stream may not end sooner than ROWS cycles after the one
  // before (OsArrayModel::stream_may_start): os_gap counts down from ROWS at a stream's end,
  // and a stream of s steps may start once s >= os_gap.
  reg [31:0] os_gap;
  wire ss_ready = wt_valid || os_l0;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [TW-1:0] stt = st_on ? st_tile : wt_valid ? wt_tile : ga;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [TI-1:0] st_i = stt[TI-1:0];
  assign sslot = st_on ? st_slot : wt_valid ? wt_slot : nslot;
  wire [31:0] s_m = cmem[{st_i, 5'd0}], s_ru = cmem[{st_i, 5'd1}], s_nc = cmem[{st_i, 5'd2}];
  // The stream's steps: WS the m tokens, OS the k-chunk.
  wire [31:0] s_n = OS != 0 ? s_ru : s_m;
  wire ss_now = run && !st_on && ss_ready && (OS == 0 || WBANKS == 1 || s_n >= os_gap);
  wire streaming = ss_now || st_on;
  wire [31:0] tok = st_on ? st_tok : 32'd0;  // the step (WS: token; OS: k within the chunk)
  // A token enters once every port has its bytes: each port gains its bytes per cycle of
  // credit a cycle from the stream's start and spends a step's bytes on each token
  // (port_step_ready: step i at the first stream cycle s with (i + 1) need <= (s + 1)
  // bytes_per_cycle, that is credit (s + 1) bytes_per_cycle - i need >= need; at once when one
  // cycle's bytes cover a step). OS: no bubbles (its load waited for the ports).
  wire [31:0] s_xb = cmem[{st_i, 5'd23}], s_pib = cmem[{st_i, 5'd24}];
  wire [31:0] s_pob = cmem[{st_i, 5'd25}];
  wire [31:0] cx = (st_on ? st_cx : 32'd0) + X_BPC;
  wire [31:0] cpi = (st_on ? st_cpi : 32'd0) + O_BPC;
  wire [31:0] cpo = (st_on ? st_cpo : 32'd0) + O_BPC;
  wire x_ok = s_xb <= X_BPC || cx >= s_xb;
  wire pi_ok = s_pib <= O_BPC || cpi >= s_pib;
  wire po_ok = s_pob <= O_BPC || cpo >= s_pob;
  wire s_go = streaming && (OS != 0 || (x_ok && pi_ok && po_ok));
  wire s_end = s_go && tok + 1 == s_n;  // the stream's last step
  /* verilator lint_off UNUSEDSIGNAL */  // (flags: the stream reads first_k, chained, scheme)
  wire [31:0] s_k0 = cmem[{st_i, 5'd3}], s_fl = cmem[{st_i, 5'd4}];
  /* verilator lint_on UNUSEDSIGNAL */
  wire [31:0] s_wb = cmem[{st_i, 5'd5}], s_ab = cmem[{st_i, 5'd6}];
  /* verilator lint_off UNUSEDSIGNAL */  // (the m-block: its low two bits bank the token scales)
  wire [31:0] s_mb = cmem[{st_i, 5'd26}];
  /* verilator lint_on UNUSEDSIGNAL */
  wire s_first = s_fl[0], s_chained = s_fl[2];
  wire s_res = s_fl[8];
  wire [31:0] s_roff = cmem[{st_i, 5'd27}];
  wire s_g4 = s_fl[3] || s_fl[4];
  wire s_blk = BLK_UNITS > 0 && s_fl[12];
  // (w4a4-mxfp4, -nvfp4: E2M1 activations, two a byte)
  wire s_x4 = (PE == 3 || PE == 4) && s_blk && s_fl[13];
  wire s_grp = s_g4 || s_blk;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] kblk = s_grp || s_fl[5] || s_fl[6] || OS != 0 ? s_k0 / s_ru : s_k0 / ROWS;
  // The step's activations: WS a token's rows_used codes, OS one k of the m tokens (the OS
  // layout is k-major); the token scales after them (OS: all m in the first step's read).
  // (E2M1 activations: WS a token's rows_used nibbles, rows_used even, so whole bytes; OS a
  // step's m nibbles, from nibble tok m of the k-major stream: x_nsh its half of the byte.)
  wire [31:0] x_nib = tok * s_m;
  wire x_nsh = OS != 0 && s_x4 && x_nib[0];
  wire [31:0] ra2 = s_wb +
      (OS != 0 ? (s_x4 ? x_nib >> 1 : x_nib) : tok * (s_x4 ? s_ru >> 1 : s_ru));
  // w8a8-mxint8: the activations' block scales. K-tile j = (k0 mod G) / rows_used of a block
  // carries the scales of its tokens j c .. j c + c - 1, c = ceil(m rows_used / G), after its
  // codes (the plan's bytes hold them: c <= its share, and the block's G / rows_used k-tiles
  // hold all m); as each of those tokens enters, its scale goes into the chain's register file
  // xb (the edge reads it at the block's end) and, fetched, into the resident copy xbr by block
  // k0 / G, from which later n-tiles' streams take it.
  wire [31:0] s_g = cmem[{st_i, 5'd16}];
  wire [31:0] s_g1 = s_g == 0 ? 32'd1 : s_g, s_ru1 = s_ru == 0 ? 32'd1 : s_ru;
  // (OS: a chunk is one block; its m scales follow the codes, all read in the first step.)
  wire [31:0] s_c = s_blk && OS == 0 ? (s_m * s_ru + s_g1 - 1) / s_g1 : 32'd0;
  wire [31:0] s_p0 = s_blk ? (s_k0 % s_g1) / s_ru1 * s_c : 32'd0;
  wire [31:0] s_bi = s_blk ? s_k0 / s_g1 : 32'd0;
  wire s_inp = s_blk && OS == 0 && tok >= s_p0 && tok < s_p0 + s_c;
  wire [31:0] ra3 = s_wb + (s_x4 ? (s_m * s_ru) >> 1 : s_m * s_ru) +
      (s_blk ? tok - s_p0 : 32'd4 * tok);
  wire [31:0] xk = s_k0 + tok;  // OS: the resident row of this k
  /* verilator lint_on UNUSEDSIGNAL */
  wire has_x = s_ab != 32'd0;  // activations come with the tile
  wire s_pt = s_fl[9], s_ts = s_fl[10];
  wire has_xs = has_x && s_first && !s_pt;  // token scales too
  assign slot_ra2 = ra2[SAW-1:0];
  assign slot_ra3 = ra3[SAW-1:0];
  // Resident activations: WS a token's row of a k-tile ({k-tile, token}), OS the m tokens of
  // one k (k).
  reg [ROWS*8-1:0] xmem[0:XDEPTH-1];
  wire [XAW-1:0] xaddr = OS != 0 ? xk[XAW-1:0] : {kblk[KW-1:0], tok[LM-1:0]};
  wire [31:0] x_lanes = OS != 0 ? s_m : s_ru;  // lanes of x_in the step fills
  reg [ROWS*8-1:0] x_row;
  integer c;
  // E2M1 s.ee.m as the E4M3 code of its value: 0 and 0.5 (ee = 0: subnormal) as +-0 and
  // 2^-1 (exponent field 6), the normals' exponent field ee + 6 (bias 1 -> 7), m the top
  // mantissa bit.
  function automatic [7:0] e2m1_to_e4m3(input [3:0] f);
    e2m1_to_e4m3 = {f[3], f[2:1] == 2'd0 ? (f[0] ? 4'd6 : 4'd0) : {2'd0, f[2:1]} + 4'd6,
                    f[2:1] == 2'd0 ? 3'd0 : {f[0], 2'd0}};
  endfunction
  always @* begin
    for (c = 0; c < ROWS; c = c + 1)
      x_row[8*c+:8] = c >= x_lanes ? 8'd0 : !has_x ? xmem[xaddr][8*c+:8] :
          s_x4 ? (PE == 4 ? {4'd0, sq2[4*(c+{31'd0, x_nsh})+:4]} :
                  e2m1_to_e4m3(sq2[4*(c+{31'd0, x_nsh})+:4])) :
          PE == 0 && s_blk && sq2[8*c+:8] == 8'h80 ? 8'd0 : sq2[8*c+:8];
  end
  // The weight row into the array: WS the load's row ROWS-1-i of the loading tile, OS the
  // step's k of the streaming tile; COLS nibbles from the row's first (group schemes) or COLS
  // bytes (w8a8), 0 beyond rows_used / cols_used.
  wire [31:0] w_row = OS != 0 ? tok : row_r;
  wire [31:0] w_nc = OS != 0 ? s_nc : l_nc;
  wire w_grp = OS != 0 ? s_g4 : l_g4;
  wire w_nib = OS != 0 ? s_g4 || s_fl[11] || (PE >= 3 && s_blk) : l_nib;
  // MXINT8: -128 is invalid, worth 0 [spec choice]
  wire w_mx = PE == 0 && (OS != 0 ? s_blk : l_blk);
  wire w_rows_ok = OS != 0 || row_r < l_ru;
  /* verilator lint_off UNUSEDSIGNAL */  // (offsets within the slot: their high bits are 0)
  wire [31:0] wnib = w_row * w_nc;  // the row's first code (w4a8-is: nibble)
  wire [31:0] ra0 = w_nib ? wnib >> 1 : wnib;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [COLS*4-1:0] nib_row = sq0[4*wnib[0]+:COLS*4];
  reg [COLS*8-1:0] w_row_in;
  always @* begin
    for (c = 0; c < COLS; c = c + 1)
      w_row_in[8*c+:8] = !(c < w_nc && w_rows_ok) ? 8'd0 :
          w_grp ? {{4{nib_row[4*c+3]}}, nib_row[4*c+:4]} :
          w_nib ? {4'd0, nib_row[4*c+:4]} : w_mx && sq0[8*c+:8] == 8'h80 ? 8'd0 : sq0[8*c+:8];
  end

  // -- the fused dequantizers (WS loads of w4a8-dgq and w4a8-qserve tiles) --
  // DQ_UNITS lanes of dequant_dgq (each with QServe's circuit beside DGQ's) work through the tile's codes in their memory order, which the
  // DGQ layout makes the load's order (row rows_used - 1 first, each row's cols_used codes), a
  // lane a code a cycle, into a staging store of int8 rows (and past it: this cycle's lanes are
  // forwarded). The array takes ROWS shifts: the ROWS - rows_used zero rows at once, then each
  // real row as soon as its last code is dequantized (this cycle's included), one a cycle. So
  // the load lasts max(ROWS, ceil(rows_used cols_used / DQ_UNITS)) cycles, or the weight port's
  // ceil(weight_read_bytes / W_BPC) if longer (ArrayModel::load_cycles: the fused dequantizers'
  // rule; any row order of the greedy shifts ends then, as the shifts of row j wait for
  // ceil((j + 1) cols_used / DQ_UNITS) cycles at most). Each lane reads its column's zero and
  // S2 from the group's registers (written when a tile starts a group, and forwarded from the
  // slot in that start cycle): one scale word a dequantized weight (scale_reads).
  reg [31:0] dq_p;  // codes dequantized before this cycle
  reg [31:0] dq_r0, dq_c0;  // their next position (load-order row, column)
  reg [31:0] dq_sh;  // shifts before this cycle
  reg [7:0] dq_stage[0:ROWS*COLS-1];
  reg [3:0] dq_z[0:COLS-1];
  reg [7:0] dq_s2[0:COLS-1];
  wire dq_load = OS == 0 && loading && l_tl;
  wire [31:0] dq_tot = l_ru * l_nc;
  wire [31:0] p0 = start_now ? 32'd0 : dq_p;
  // The group's metadata in the start cycle: port 1 reads from the byte holding the first zero.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] dq_mo = {31'd0, dq_tot[0]};  // the zeros' first nibble within that byte
  wire [31:0] cs_off = l_tl ? dq_bytes - (dq_tot >> 1) : 32'd0;  // channel scales' byte
  /* verilator lint_on UNUSEDSIGNAL */
  wire [BEAT*8-1:0] cs_q = sq1 >> {cs_off[LBEAT:0], 3'd0};
  wire dq_meta_now = start_now && l_tl && l_gs;
  wire [DQ_UNITS*8-1:0] dq_w8;
  wire [DQ_UNITS-1:0] dq_oor, dq_act;
  localparam integer SIW = $clog2(ROWS * COLS);
  wire [DQ_UNITS*SIW-1:0] dq_si;  // each lane's staging slot (row, column)
  wire [32*(DQ_UNITS+1)-1:0] dq_r, dq_c;
  lane_positions #(
      .N(DQ_UNITS)
  ) dq_pos (
      .restart(start_now),
      .r0     (dq_r0),
      .c0     (dq_c0),
      .cols   (l_nc),
      .r      (dq_r),
      .c      (dq_c)
  );
  genvar q;
  generate
    for (q = 0; q < DQ_UNITS; q = q + 1) begin : g_dq
      /* verilator lint_off UNUSEDSIGNAL */
      wire [31:0] pc = p0 + q;
      wire [31:0] col = dq_c[32*q+:32];
      /* verilator lint_on UNUSEDSIGNAL */
      wire [3:0] code = sq0[4*({31'd0, p0[0]} + q)+:4];
      wire [3:0] z = dq_meta_now ? sq1[4*(dq_mo + col)+:4] : dq_z[col[$clog2(COLS)-1:0]];
      wire [7:0] s2 = dq_meta_now ? sq1[4*(dq_mo + l_nc + 2 * col)+:8] :
          dq_s2[col[$clog2(COLS)-1:0]];
      assign dq_act[q] = dq_load && pc < dq_tot;
      /* verilator lint_off UNUSEDSIGNAL */
      wire [31:0] si = dq_r[32*q+:32] * COLS + col;
      /* verilator lint_on UNUSEDSIGNAL */
      assign dq_si[SIW*q+:SIW] = si[SIW-1:0];
      // The lane's two circuits: DGQ's (int8 S2, [-127, 127]) and QServe's (uint8 s1,
      // [-128, 127]); the tile's scheme picks.
      wire [7:0] w8_d, w8_q;
      wire oor_d, oor_q;
      dequant_dgq u (
          .q  (code),
          .z  (z),
          .s2 (s2),
          .w8 (w8_d),
          .oor(oor_d)
      );
      dequant_dgq #(
          .LO(-128),
          .HI(127),
          .S_SIGNED(0)
      ) uq (
          .q  (code),
          .z  (z),
          .s2 (s2),
          .w8 (w8_q),
          .oor(oor_q)
      );
      assign dq_w8[8*q+:8] = l_qs ? w8_q : w8_d;
      assign dq_oor[q] = l_qs ? oor_q : oor_d;
    end
  endgenerate
  integer dn_i;
  reg [31:0] dq_n;  // lanes at work this cycle
  reg [31:0] dq_ovf_now;
  always @* begin
    dq_n = 0;
    dq_ovf_now = 0;
    for (dn_i = 0; dn_i < DQ_UNITS; dn_i = dn_i + 1) begin
      if (dq_act[dn_i]) dq_n = dq_n + 1;
      if (dq_act[dn_i] && dq_oor[dn_i]) dq_ovf_now = dq_ovf_now + 1;
    end
  end
  // The next shift: a zero row, or real row lr once the lanes are past it.
  wire [31:0] dq_k = start_now ? 32'd0 : dq_sh;
  wire [31:0] dq_zero_rows = ROWS - l_ru;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] dq_lr = dq_k - dq_zero_rows;
  /* verilator lint_on UNUSEDSIGNAL */
  wire dq_shift = dq_load && dq_k < ROWS &&
      (dq_k < dq_zero_rows || dq_r[32*DQ_UNITS+:32] > dq_lr);
  assign dq_last = dq_k + (dq_shift ? 32'd1 : 32'd0) == ROWS && l_port_done;
  reg [COLS*8-1:0] dq_row;
  integer dc, dj;
  always @* begin
    for (dc = 0; dc < COLS; dc = dc + 1) begin
      dq_row[8*dc+:8] = dq_k < dq_zero_rows || dc >= l_nc ? 8'd0 :
          dq_stage[dq_lr[$clog2(ROWS)-1:0]*COLS+dc];
      for (dj = 0; dj < DQ_UNITS; dj = dj + 1)
        if (dq_act[dj] && dq_r[32*dj+:32] == dq_lr && dq_c[32*dj+:32] == dc)
          dq_row[8*dc+:8] = dq_w8[8*dj+:8];
    end
  end
  // Port 0: the load's weight row (WS), the stream's (OS), or the dequantizers' codes (DGQ).
  assign ra0_w = dq_load ? p0 >> 1 : ra0;
  assign ra1_w = l_tl ? dq_tot >> 1 : l_codes;
  assign slot_ra0 = ra0_w[SAW-1:0];
  assign slot_ra1 = ra1_w[SAW-1:0];
  // The resident store's users: port 0 the loading tile (OS: the streaming tile), port 1 the
  // loading tile.
  assign r0_res = OS != 0 ? s_res : l_res;
  assign r0_off = OS != 0 ? s_roff : l_roff;
  assign r1_res = l_res;
  assign r1_off = l_roff;
  wire [COLS*8-1:0] w_in = dq_load ? dq_row : w_row_in;
  wire [TI-1:0] stt_r = stt[TI-1:0];
  wire [LREG-1:0] s_reg = rg[stt_r];
  // The streaming tile's region as its stream starts: an OS tile may start and stream in one
  // cycle, before its region is registered (rg).
  wire [LREG-1:0] st_reg = start_now && stt == ga ? new_reg : s_reg;

  // -- results: tile rs_tile --
  wire y_valid;
  wire [COLS*32-1:0] y_out;
  wire [TI-1:0] rs_i = rs_tile[TI-1:0];
  wire [31:0] r_m = cmem[{rs_i, 5'd0}], r_nc = cmem[{rs_i, 5'd2}];
  /* verilator lint_off UNUSEDSIGNAL */  // (flags: chained)
  wire [31:0] r_fl = cmem[{rs_i, 5'd4}];
  /* verilator lint_on UNUSEDSIGNAL */
  wire [LREG-1:0] r_reg = rg[rs_i];
  wire r_ok = rs_tile < nstreamed;  // a tile with results outstanding
  // WS: a result row per token; OS: ROWS rows, bottom first (row ROWS-1-res: the token's; the
  // rows beyond a ragged m-tile's m are zeros, not written).
  wire [31:0] r_rows = OS != 0 ? ROWS : r_m;
  wire drain_now = y_valid && r_ok && res + 1 == r_rows;
  wire [31:0] r_tok = OS != 0 ? ROWS - 1 - res : res;
  // Partial sums: with one bank the previous k-tile's, into the array at the top (psum_in);
  // with two, added to the results as they leave. Both from ofmap port 0.
  wire [NBO*32-1:0] ofm_q0;
  /* verilator lint_off UNUSEDSIGNAL */  // (OS: no partial sums into the array)
  reg [COLS*32-1:0] psum_in;
  /* verilator lint_on UNUSEDSIGNAL */
  // (Verilator sees the ofmap's read ports as one signal: port 1's write-first bypass closes a
  // loop through the write data that port 0, reading old values, does not have.)
  /* verilator lint_off UNOPTFLAT */
  reg [COLS*32-1:0] ofm_wy;
  /* verilator lint_on UNOPTFLAT */
  always @* begin
    for (c = 0; c < COLS; c = c + 1) begin
      psum_in[32*c+:32] = (WBANKS == 1 && s_chained && c < s_nc) ? ofm_q0[32*c+:32] : 32'd0;
      ofm_wy[32*c+:32] = y_out[32*c+:32] +
          ((WBANKS == 2 && r_fl[2]) ? ofm_q0[32*c+:32] : 32'd0);
    end
  end

  generate
    if (OS == 0) begin : g_ws
      systolic_array #(
          .ROWS  (ROWS),
          .COLS  (COLS),
          .ACC_W (32),
          .WBANKS(WBANKS),
          .PE    (PE),
          .PE_STAGES(PE_STAGES)
      ) array (
          .clk    (clk),
          .rst    (rst),
          .w_load (l_tl ? dq_shift : loading && load_i < ROWS),
          .w_bank (lt[0]),
          .x_bank (stt[0]),
          .w_in   (w_in),
          .x_valid(s_go),
          .x_in   (x_row),
          .psum_in(psum_in),
          .y_valid(y_valid),
          .y_out  (y_out)
      );
    end else begin : g_os
      // (Nothing chains through the ofmap: each PE sums its tile's whole k-chunk.)
      systolic_os #(
          .ROWS  (ROWS),
          .COLS  (COLS),
          .ACC_W (32),
          .ABANKS(WBANKS),
          .PE    (PE)
      ) array (
          .clk  (clk),
          .rst  (rst),
          .valid(s_go),
          .last (s_end),
          .x_in (x_row),
          .w_in (w_in),
          .y_valid(y_valid),
          .y_out  (y_out)
      );
    end
  endgenerate

  // ---- ofmap (partial sums, a region per chain) ------------------------------------------------
  // Write: the array's results; port 0 (reading the values before this cycle's write): psum_in
  // (one bank) or the result's chained partial sum (two banks); port 1: the edge's lanes.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] res_off = r_tok * r_nc;
  wire [31:0] ps_off = tok * s_nc;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [OAW-1:0] ofm_ra0 = WBANKS == 2 ? {r_reg, res_off[LHO-1:0]} : {s_reg, ps_off[LHO-1:0]};
  wire [OAW-1:0] ofm_ra1;
  wire [2*NBO*32-1:0] ofm_q;
  reg [NBO*32-1:0] ofm_wd;
  always @* begin
    ofm_wd = {NBO * 32{1'b0}};
    ofm_wd[COLS*32-1:0] = ofm_wy;
  end
  wire ofm_we = y_valid && r_ok && r_tok < r_m;
  flat_mem #(
      .EW(32),
      .NB(NBO),
      .WORDS(NREG * HALF_O / NBO),
      .NR(2),
      .AW(OAW),
      .OLD(1)
  ) ofmap (
      .clk(clk),
      .we(ofm_we),
      .waddr({r_reg, res_off[LHO-1:0]}),
      .wcount(r_nc[$clog2(NBO):0]),
      .wdata(ofm_wd),
      .raddr({ofm_ra1, ofm_ra0}),
      .rdata(ofm_q)
  );
  assign ofm_q0 = ofm_q[0+:NBO*32];
  wire [NBO*32-1:0] ofm_q1 = ofm_q[NBO*32+:NBO*32];

  // Scales for the edge: the token scales (resident) and each chain's scale registers (w8a8:
  // the fp16 channel scales; w4a8-is: the group's integer scales S, the scale register file).
  // Token scales, four blocks' (by m-block mod 4): the epilogue of a block's last tile may run
  // while the next block's first tiles stream theirs in (tile g + 3 starts streaming only after
  // the edge has finished tile g, so blocks three apart never meet).
  reg [31:0] xs[0:4*M_MAX-1];
  // Per-tensor scales, four tensors' (a tile records its tensor's bank, tb, at its first step;
  // tensors four apart never meet, as blocks do not).
  reg [31:0] xs_t[0:3];
  reg [1:0] t_cur;
  reg [1:0] tb[0:NT_MAX-1];
  reg [15:0] cs[0:NREG*COLS-1];
  // w8a8-mxint8's activation block scales (E8M0): each chain's, by region, and the resident
  // activations' by block.
  /* verilator lint_off UNUSEDSIGNAL */  // (no block-scale lanes: not read)
  reg [7:0] xb[0:NREG*M_MAX-1];
  /* verilator lint_on UNUSEDSIGNAL */
  reg [7:0] xbr[0:KT_MAX*M_MAX-1];

  // The edge's region (below), for the check that the array leaves it alone: the tile it works
  // on after this cycle's take (busy_after, reg_after), or the one it took earlier (e_has,
  // e_reg; not in its finish cycle).
  wire busy_after, e_busy_reg;
  wire [LREG-1:0] reg_after, e_reg_now;

  always @(posedge clk) begin
    if (rst) begin
      issued <= 0;
      released <= 0;
      iss_slot <= 0;
      slot_ready <= 0;
      slot_keep <= 0;
      ga <= 0;
      nslot <= 0;
      lreg <= LREG'(NREG - 1);  // the first tile (first_k) moves on to region 0
      ld_on <= 1'b0;
      ld_fin <= 1'b0;
      ld_cnt <= 0;
      ld_tile <= 0;
      ld_slot <= 0;
      wt_valid <= 1'b0;
      wt_tile <= 0;
      wt_slot <= 0;
      st_on <= 1'b0;
      st_fin <= 1'b0;
      st_tok <= 0;
      os_gap <= 0;
      t_cur <= 0;
      st_cx <= 0;
      st_cpi <= 0;
      st_cpo <= 0;
      st_tile <= 0;
      st_slot <= 0;
      nstreamed <= 0;
      rs_tile <= 0;
      res <= 0;
      hq_n <= 0;
      hq0 <= 0;
      hq1 <= 0;
      taken <= 0;
      blk_valid <= 0;
      xs_valid <= 1'b0;
      n_scale_wr <= 0;
      n_dq_ovf <= 0;
      dq_p <= 0;
      dq_r0 <= 0;
      dq_c0 <= 0;
      dq_sh <= 0;
      err <= 7'd0;
    end else begin
      // Fetch issues.
      issued <= issued + n_issue;
      iss_slot <= next_iss_slot;
      for (c = 0; c < DEPTH; c = c + 1) begin
        if (lane_ok[c]) begin
          slot_beats[lane_slot[SW*c+:SW]] <=
              (lane_bytes[32*c+:32] + BEAT - 1) >> LBEAT;
          slot_keep[lane_slot[SW*c+:SW]] <= lane_keep[c];
          slot_roff[lane_slot[SW*c+:SW]] <= lane_roff[32*c+:32];
          slot_wb[lane_slot[SW*c+:SW]] <= lane_wb[32*c+:32];
          beat_cnt[lane_slot[SW*c+:SW]] <= 0;
          if (lane_bytes[32*c+:32] > SLOT_BYTES) err[1] <= 1'b1;
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
      taken <= taken_now[TW-1:0];
      // The load.
      ld_fin <= 1'b0;
      if (start_now) begin
        ld_tile <= ga;
        ld_slot <= nslot;
        ga <= ga + 1;
        nslot <= DEPTH > 1 && nslot == SW'(DEPTH - 1) ? 0 : DEPTH > 1 ? nslot + 1 : 0;
        lreg <= new_reg;
        rg[ga[TI-1:0]] <= new_reg;
        if (!cmd_ok) err[0] <= 1'b1;
        if ({16'd0, ga} >= NT_MAX) err[5] <= 1'b1;
        if (l_has_cs) begin
          for (c = 0; c < COLS; c = c + 1)
            if (c < l_nc)
              cs[COLS*{{(32 - LREG) {1'b0}}, new_reg}+c] <=
                  l_blk ? {8'd0, cs_q[8*c+:8]} : cs_q[16*c+:16];
          if (l_grp) n_scale_wr <= n_scale_wr + l_nc;
          if (busy_after && reg_after == new_reg) err[6] <= 1'b1;
        end
        if (dq_meta_now) n_scale_wr <= n_scale_wr + l_nc;
      end
      // The DGQ dequantizers: the group's zeros and S2 (at its start), the staging rows.
      if (dq_meta_now)
        for (c = 0; c < COLS; c = c + 1)
          if (c < l_nc) begin
            dq_z[c]  <= sq1[4*(dq_mo+c)+:4];
            dq_s2[c] <= sq1[4*(dq_mo+l_nc+2*c)+:8];
          end
      if (dq_load) begin
        dq_p  <= p0 + dq_n;
        dq_r0 <= dq_r[32*DQ_UNITS+:32];
        dq_c0 <= dq_c[32*DQ_UNITS+:32];
        dq_sh <= dq_k + (dq_shift ? 32'd1 : 32'd0);
        for (c = 0; c < DQ_UNITS; c = c + 1)
          if (dq_act[c]) dq_stage[dq_si[SIW*c+:SIW]] <= dq_w8[8*c+:8];
        n_dq_ovf <= n_dq_ovf + dq_ovf_now;
      end
      if (loading && !os_l0) begin
        if (load_last) begin
          ld_on  <= 1'b0;
          ld_fin <= 1'b1;
        end else begin
          ld_on  <= 1'b1;
          ld_cnt <= load_i + 1;
        end
      end
      // A loaded tile waits for the stream (at most one: tile g + 1 loads once g - 1 is done,
      // so g has had the stream since; OS: a tile loads only while the stream is idle and none
      // waits), unless it streams at once (OS, nothing to wait for).
      if (load_last || (os_l0 && !ss_now)) begin
        wt_valid <= 1'b1;
        wt_tile  <= lt;
        wt_slot  <= lslot;
        if (wt_valid && !ss_now) err[4] <= 1'b1;
      end else if (ss_now) begin
        wt_valid <= 1'b0;
      end
      // The stream.
      st_fin <= 1'b0;
      if (s_end) os_gap <= ROWS;
      else if (os_gap != 0) os_gap <= os_gap - 1;
      if (ss_now) begin
        st_tile <= stt;
        st_slot <= sslot;
        nstreamed <= nstreamed + 1;
        if (!has_x && (!blk_valid[kblk[KW-1:0]] || (s_first && !s_pt && !xs_valid))) err[3] <= 1'b1;
      end
      if (s_go && tok == 0) begin
        tb[st_i] <= s_ts ? t_cur + 1'b1 : t_cur;
        if (s_ts) begin
          t_cur <= t_cur + 1'b1;
          xs_t[t_cur+1'b1] <= sq3[31:0];
        end
      end
      if (s_go) begin
        if (has_x) xmem[xaddr] <= x_row;
        if (s_inp) begin
          xb[{st_reg, tok[LM-1:0]}] <= has_x ? sq3[7:0] : xbr[{s_bi[KW-1:0], tok[LM-1:0]}];
          if (has_x) xbr[{s_bi[KW-1:0], tok[LM-1:0]}] <= sq3[7:0];
        end
        if (OS == 0) begin
          if (has_xs) xs[{s_mb[1:0], tok[LM-1:0]}] <= sq3[31:0];
        end else if (s_blk && tok == 0) begin
          // OS block schemes: the m tokens' scales of the chunk's block, one read (m <= ROWS
          // bytes), into the tile's register file and, fetched, the resident copy.
          for (c = 0; c < ROWS; c = c + 1)
            if (c < s_m) begin
              xb[{st_reg, LM'(c)}] <= has_x ? sq3[8*c+:8] : xbr[{s_bi[KW-1:0], LM'(c)}];
              if (has_x) xbr[{s_bi[KW-1:0], LM'(c)}] <= sq3[8*c+:8];
            end
        end else if (has_xs && tok == 0) begin
          // OS: the m-tile's m token scales, one read (4 ROWS <= BEAT bytes).
          for (c = 0; c < ROWS; c = c + 1)
            if (c < s_m) xs[{s_mb[1:0], LM'(c)}] <= sq3[32*c+:32];
        end
      end
      if (streaming) begin
        if (s_end) begin
          st_on <= 1'b0;
          st_fin <= 1'b1;
          released <= released + 1;
          if (has_x) blk_valid[kblk[KW-1:0]] <= 1'b1;
          if (has_xs) xs_valid <= 1'b1;
        end else begin
          st_on  <= 1'b1;
          st_tok <= tok + (s_go ? 32'd1 : 32'd0);
          st_cx <= cx - (s_go ? s_xb : 32'd0);
          st_cpi <= cpi - (s_go ? s_pib : 32'd0);
          st_cpo <= cpo - (s_go ? s_pob : 32'd0);
        end
      end
      // Results.
      if (y_valid) begin
        if (!r_ok) err[4] <= 1'b1;
        if (e_busy_reg && e_reg_now == r_reg) err[6] <= 1'b1;
      end
      if (drain_now) begin
        rs_tile <= rs_tile + 1;
        res <= 0;
      end else if (y_valid) begin
        res <= res + 1;
      end
      // The edge's queue: the pending tiles (pend0, pend1) less those taken.
      if (n_take == 2'd0) begin
        hq0 <= pend0;
        hq1 <= pend1;
      end else if (n_take == 2'd1) begin
        hq0 <= pend1;
      end
      hq_n <= n_pend - n_take;
      if (hq_n == 2'd2 && drain_now) err[4] <= 1'b1;
    end
  end

  // ---- edge units -------------------------------------------------------------------------------
  // Pending: the queue, then the tile drained this cycle.
  wire [1:0] n_pend = hq_n + {1'b0, drain_now};
  /* verilator lint_off UNUSEDSIGNAL */  // (tile numbers beyond NT_MAX: error bit 6)
  wire [TW-1:0] pend0 = hq_n != 0 ? hq0 : rs_tile;
  wire [TW-1:0] pend1 = hq_n == 2 ? hq1 : rs_tile;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [TI-1:0] p0_i = pend0[TI-1:0];
  wire [TI-1:0] p1_i = pend1[TI-1:0];
  wire p0_zero = cmem[{p0_i, 5'd12}] == 0 && cmem[{p0_i, 5'd8}] == 0;  // no edge work
  wire p1_zero = cmem[{p1_i, 5'd12}] == 0 && cmem[{p1_i, 5'd8}] == 0;
  assign take0 = run && n_pend != 0 && edge_free;
  assign take1 = take0 && p0_zero && n_pend == 2;
  wire [1:0] n_take = {1'b0, take0} + {1'b0, take1};
  // The tile with work the edge takes this cycle (at most one: the last taken).
  wire take_w = take1 ? !p1_zero : take0 && !p0_zero;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [TW-1:0] pend_tile = take1 ? pend1 : pend0;
  /* verilator lint_on UNUSEDSIGNAL */
  reg [31:0] e_left;  // busy cycles left: free at 0
  reg e_has;  // a tile with work in the edge, not finished
  reg [31:0] e_ec;  // cycles since it was taken
  reg [31:0] e_nbr, e_rcyc, e_nbe, e_totr, e_tote, e_nc, e_ob, e_oaddr, e_s2;
  reg [LREG-1:0] e_reg;
  reg e_is, e_fs, e_blk, e_nv, e_first;
  reg [31:0] e_tsx;
  reg [OBW-1:0] e_oh;  // the output buffer the edge's tile fills
  reg [1:0] e_mb;  // the edge's tile's m-block, mod 4 (its token scales)
  reg [1:0] e_tb;  // ... its tensor's bank (per-tensor scales)
  reg e_pt;
  reg [31:0] e_m0, e_c0;  // position (token, column) of the next batch's lane 0
  reg [OBW-1:0] oh_next;  // the output buffer the next written tile fills
  assign edge_free = e_left == 0;
  wire [TI-1:0] pt_i = pend_tile[TI-1:0];
  wire [31:0] p_ru = cmem[{pt_i, 5'd1}], p_nc = cmem[{pt_i, 5'd2}], p_k0 = cmem[{pt_i, 5'd3}];
  wire [31:0] p_ob = cmem[{pt_i, 5'd7}], p_epi = cmem[{pt_i, 5'd8}];
  wire [31:0] p_oaddr = cmem[{pt_i, 5'd10}], p_rs = cmem[{pt_i, 5'd12}];
  wire [31:0] p_g = cmem[{pt_i, 5'd16}];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] p_mb = cmem[{pt_i, 5'd26}];
  /* verilator lint_on UNUSEDSIGNAL */
  /* verilator lint_off UNUSEDSIGNAL */  // (flags: the scheme; b <= 62 by the command check)
  wire [31:0] p_fl = cmem[{pt_i, 5'd4}], p_bits = cmem[{pt_i, 5'd17}];
  /* verilator lint_on UNUSEDSIGNAL */
  wire [LREG-1:0] p_reg = rg[pt_i];
  // The rescale phase: the integer-scale units' count and latency, or the float-scale units'.
  // (w8a8-mxint8: the block-scale lanes' count and latency.)
  wire p_blk = BLK_UNITS > 0 && p_fl[12];
  wire p_nv = BLK_NV != 0 && p_blk && p_fl[14];  // (w4a4-nvfp4: the lanes' nvfp4_fp32_acc)
  wire [31:0] p_nbr = p_blk ? (p_rs + UB - 1) >> LUB :
      p_fl[4] ? (p_rs + UF - 1) >> LUF : (p_rs + UI - 1) >> LUI;
  wire [31:0] p_rcyc = p_rs == 0 ? 32'd0 :
      p_nbr + (p_blk ? BLK_LAT : p_fl[4] ? FS_LAT : IS_LAT);
  wire [31:0] p_nbe = (p_epi + U - 1) >> LU;
  wire [31:0] p_cyc = p_rcyc + (p_epi == 0 ? 32'd0 : p_nbe + EPI_LAT);
  // w4a8-is: the layer's first group starts the accumulators; the epilogue's second scale is
  // 2^-b (exact in fp32 for b <= 62), w8a8's the channel scale.
  wire p_first = p_k0 + p_ru == p_g;
  // (Fixed block accumulators: 2^-BLK_FRAC, acc_f = F32(F32(acc) 2^-frac); b is 0 for them.)
  wire [7:0] p_exp = 8'd127 - (p_blk && BLK_FIXED != 0 ? BLK_FRAC[7:0] : p_bits[7:0]);
  // (w4a4-nvfp4: the scales are the tensors' s_tx and s_tw, words 28 and 29.)
  wire [31:0] p_tsx = cmem[{pt_i, 5'd28}], p_tsw = cmem[{pt_i, 5'd29}];
  wire [31:0] p_s2 = p_nv ? p_tsw : {1'b0, p_exp, 23'd0};
  wire fin_a = e_has && e_left == 0;  // the edge's tile finishes
  // Tiles with nothing to do finish as they are taken.
  wire [1:0] fin_b = {1'b0, take0 && p0_zero} + {1'b0, take1 && p1_zero};
  wire act = take_w || e_has;
  wire [31:0] x = take_w ? 32'd0 : e_ec;
  wire [31:0] c_nbr = take_w ? p_nbr : e_nbr, c_rcyc = take_w ? p_rcyc : e_rcyc;
  wire [31:0] c_nbe = take_w ? p_nbe : e_nbe;
  wire [31:0] c_totr = take_w ? p_rs : e_totr, c_tote = take_w ? p_epi : e_tote;
  wire [31:0] nc_e = take_w ? p_nc : e_nc;
  wire [LREG-1:0] c_reg = take_w ? p_reg : e_reg;
  // c_is: a group scheme (the accumulators hold the output; w4a8-fs: as fp32, c_fs).
  wire c_is = take_w ? p_fl[3] || p_fl[4] || p_blk : e_is, c_first = take_w ? p_first : e_first;
  wire c_fs = take_w ? p_fl[4] : e_fs;
  wire c_blk = take_w ? p_blk : e_blk;  // (block accumulators: fp32, as w4a8-fs's)
  wire c_nv = take_w ? p_nv : e_nv;
  wire [31:0] c_tsx = take_w ? p_tsx : e_tsx;
  wire [1:0] c_mb = take_w ? p_mb[1:0] : e_mb;
  wire [1:0] c_tb = take_w ? tb[pt_i] : e_tb;
  wire c_pt = take_w ? p_fl[9] : e_pt;
  wire [31:0] c_ur = c_blk ? UB : c_fs ? UF : UI;  // the rescale lanes the tile's scheme uses
  wire [31:0] c_s2 = take_w ? p_s2 : e_s2;
  wire [OBW-1:0] c_oh = take_w ? oh_next : e_oh;
  wire r_issue = act && x < c_nbr;
  wire [31:0] xe = x - c_rcyc;
  wire e_issue = act && x >= c_rcyc && xe < c_nbe;
  /* verilator lint_off UNUSEDSIGNAL */
  // The batch's first output (flat).
  wire [31:0] b_off = r_issue ? (c_blk ? x << LUB : c_fs ? x << LUF : x << LUI) : xe << LU;
  /* verilator lint_on UNUSEDSIGNAL */
  assign ofm_ra1 = {c_reg, b_off[LHO-1:0]};
  assign e_busy_reg = e_has && !fin_a;
  assign e_reg_now = e_reg;
  assign busy_after = take_w || e_busy_reg;
  assign reg_after = take_w ? p_reg : e_reg;
  // Lane positions: lane 0 at (m0, c0), (0, 0) at a phase's first batch, each next lane one
  // output further (token-major); position UMAX is where the next batch starts.
  wire phase0 = x == 0 || x == c_rcyc;
  wire [32*(UMAX+1)-1:0] lm, lc;
  lane_positions #(
      .N(UMAX)
  ) e_pos (
      .restart(phase0),
      .r0     (e_m0),
      .c0     (e_c0),
      .cols   (nc_e),
      .r      (lm),
      .c      (lc)
  );

  // The integer-scale accumulators' store: one int32 per output of the n-tile (EW bits: the
  // fixed block accumulators'), read by the rescale lanes (and then written back) and by the
  // epilogue lanes.
  wire [NBE*EW-1:0] eacc_q;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] ea_off;
  wire [31:0] ea_n;
  /* verilator lint_on UNUSEDSIGNAL */
  wire ea_we;
  wire [UR*EW-1:0] ea_wd;
  reg [NBE*EW-1:0] ea_wdata;
  always @* begin
    ea_wdata = {NBE * EW{1'b0}};
    ea_wdata[UR*EW-1:0] = ea_wd;
  end
  flat_mem #(
      .EW(EW),
      .NB(NBE),
      .WORDS(HALF_O / NBE),
      .NR(1),
      .AW(LHO)
  ) eacc (
      .clk(clk),
      .we(ea_we),
      .waddr(ea_off[LHO-1:0]),
      .wcount(ea_n[$clog2(NBE):0]),
      .wdata(ea_wdata),
      .raddr(b_off[LHO-1:0]),
      .rdata(eacc_q)
  );

  // Rescale lanes: acc + P S, registered in the unit (stage 0), IS_LAT - 1 more registers,
  // then the accumulator's write. r_ovf: each lane's exact acc + P S left 32 bits (an
  // `intscale_acc` overflow event of the reference), counted over the issued lanes (n_is_ovf).
  wire [UR*EW-1:0] r_sum;
  wire [UR-1:0] r_ovf;
  // w4a8-fs: the same lanes as floatscale_acc, F32(F32(F32(P) s) + acc) with s the group's
  // fp16 scale widened; the registered result of the unit the issued tile's scheme uses.
  reg r_fs, r_blk;
  /* verilator lint_off UNUSEDSIGNAL */  // (read by the lanes' nvfp4_fp32_acc only: BLK_NV)
  reg r_nv;
  /* verilator lint_on UNUSEDSIGNAL */
  // Fixed block lanes: each step's term and add overflow flags (counted apart, as the
  // reference's block_acc events) and its align_round flag.
  wire [UR-1:0] r_bot, r_boa, r_brd;
  reg [31:0] ovf_now, rnd_now;
  integer oc;
  always @* begin
    ovf_now = 0;
    rnd_now = 0;
    for (oc = 0; oc < UI; oc = oc + 1)
      if (!c_fs && !c_blk && oc < c_totr - b_off && r_ovf[oc]) ovf_now = ovf_now + 1;
    for (oc = 0; oc < UB; oc = oc + 1)
      if (c_blk && oc < c_totr - b_off) begin
        ovf_now = ovf_now + {31'd0, r_bot[oc]} + {31'd0, r_boa[oc]};
        rnd_now = rnd_now + {31'd0, r_brd[oc]};
      end
  end
  generate
    for (j = 0; j < UR; j = j + 1) begin : g_is
      /* verilator lint_off UNUSEDSIGNAL */  // (the registered copies: the counter uses ovf)
      wire [31:0] s_comb;
      wire ov_reg;
      /* verilator lint_on UNUSEDSIGNAL */
      wire ov_comb;
      assign r_ovf[j] = ov_comb;
      wire [31:0] is_acc, fs_acc, fs_s;
      /* verilator lint_off UNUSEDSIGNAL */
      wire [31:0] fs_comb;
      /* verilator lint_on UNUSEDSIGNAL */
      intscale_acc #(
          .P_W  (32),
          .S_W  (16),
          .ACC_W(32)
      ) u (
          .clk       (clk),
          .rst       (rst),
          .en        (r_issue),
          .use_acc_in(1'b1),
          .p         (ofm_q1[32*j+:32]),
          .s         (cs[COLS*{{(32 - LREG) {1'b0}}, c_reg}+lc[32*j+:32]]),
          .acc_in    (c_first ? 32'd0 : eacc_q[EW*j+:32]),
          .sum       (s_comb),
          .ovf       (ov_comb),
          .acc       (is_acc),
          .acc_ovf   (ov_reg)
      );
      f16_to_f32 fs_widen (
          .h(cs[COLS*{{(32 - LREG) {1'b0}}, c_reg}+lc[32*j+:32]]),
          .f(fs_s)
      );
      floatscale_acc fu (
          .clk       (clk),
          .rst       (rst),
          .en        (r_issue),
          .use_acc_in(1'b1),
          .p         (ofm_q1[32*j+:32]),
          .s         (fs_s),
          .acc_in    (c_first ? 32'd0 : eacc_q[EW*j+:32]),
          .sum       (fs_comb),
          .acc       (fs_acc)
      );
      // Block schemes: mx_fp32_acc, F32(acc + F32(I 2^(sx + sw - 254 - u))), sx the token's
      // block scale, sw the column's (a 255 code: the block adds nothing).
      reg [EW-1:0] bk_acc;  // (zero-extended from 32 bits but for the fixed lanes)
      // (Only the BLK_UNITS lanes the block schemes issue have block units: the rescale lanes
      // are max(IS_UNITS, FS_UNITS, BLK_UNITS), and the model prices block_units of them.)
      if (BLK_UNITS > 0 && j < BLK_UNITS) begin : g_bk
        /* verilator lint_off UNUSEDSIGNAL */  // (fixed lanes: none)
        wire [31:0] mx_acc;
        /* verilator lint_on UNUSEDSIGNAL */
        // Each unit's inputs: the block sum I, the token's and the column's scale codes, and
        // the output's accumulator (0 at the layer's first block).
        wire [31:0] bk_i = ofm_q1[32*j+:32];
        wire [EW-1:0] bk_in = c_first ? {EW{1'b0}} : eacc_q[EW*j+:EW];
        wire [7:0] bk_sx = xb[{c_reg, lm[32*j+:LM]}];
        /* verilator lint_off UNUSEDSIGNAL */
        wire [31:0] bk_term, bk_sum;
        wire bk_inv, bk_inv_r;
        wire [15:0] bk_sw = cs[COLS*{{(32 - LREG) {1'b0}}, c_reg}+lc[32*j+:32]];
        /* verilator lint_on UNUSEDSIGNAL */
        if (BLK_FIXED != 0) begin : g_fix
          // acc + I 2^(sx + sw - 254 - u + frac), shifted and rounded, BLK_ACC-bit wrap-around.
          /* verilator lint_off UNUSEDSIGNAL */
          wire bf_ovf, bf_ovf_r, bf_rnd_r;
          wire [EW-1:0] fx_sum;
          /* verilator lint_on UNUSEDSIGNAL */
          wire [EW-1:0] fx_acc;
          mx_fixed_acc #(
              .UNIT (BU),
              .ACC_W(EW),
              .FRAC (BLK_FRAC)
          ) fu (
              .clk          (clk),
              .rst          (rst),
              .en           (r_issue),
              .use_acc_in   (1'b1),
              .i            (bk_i),
              .sx           (bk_sx),
              .sw           (bk_sw[7:0]),
              .acc_in       (bk_in),
              .sum          (fx_sum),
              .ovf          (bf_ovf),
              .ovf_term     (r_bot[j]),
              .ovf_add      (r_boa[j]),
              .align_round  (r_brd[j]),
              .invalid_scale(bk_inv),
              .acc          (fx_acc),
              .acc_ovf      (bf_ovf_r),
              .acc_round    (bf_rnd_r),
              .acc_invalid  (bk_inv_r)
          );
          assign bk_term = 32'd0;
          assign bk_sum = 32'd0;
          assign mx_acc = 32'd0;
          always @* bk_acc = fx_acc;
        end else begin : g_f32
          mx_fp32_acc #(
              .UNIT(BU)
          ) bu (
              .clk          (clk),
              .rst          (rst),
              .en           (r_issue),
              .use_acc_in   (1'b1),
              .i            (bk_i),
              .sx           (bk_sx),
              .sw           (bk_sw[7:0]),
              .acc_in       (bk_in[31:0]),
              .term         (bk_term),
              .sum          (bk_sum),
              .invalid_scale(bk_inv),
              .acc          (mx_acc),
              .acc_invalid  (bk_inv_r)
          );
          assign r_bot[j] = 1'b0;
          assign r_boa[j] = 1'b0;
          assign r_brd[j] = 1'b0;
        end
        // w4a4-nvfp4: F32(acc + F32(F32(I) F32(S_x S_w))), the E4M3 block scales in the same
        // registers (I here the reference's times 2^8: E2M1 activations enter as E4M3 codes).
        if (BLK_NV != 0 && BLK_FIXED == 0) begin : g_nv
          /* verilator lint_off UNUSEDSIGNAL */
          wire [31:0] nv_scale, nv_term, nv_sum;
          /* verilator lint_on UNUSEDSIGNAL */
          wire [31:0] nv_acc;
          nvfp4_fp32_acc nu (
              .clk       (clk),
              .rst       (rst),
              .en        (r_issue),
              .use_acc_in(1'b1),
              .i         (bk_i),
              .sx        (bk_sx),
              .sw        (bk_sw[7:0]),
              .acc_in    (bk_in[31:0]),
              .scale     (nv_scale),
              .term      (nv_term),
              .sum       (nv_sum),
              .acc       (nv_acc)
          );
          always @* begin
            bk_acc = {EW{1'b0}};
            bk_acc[31:0] = r_nv ? nv_acc : mx_acc;
          end
        end else if (BLK_FIXED == 0) begin : g_mx
          always @* begin
            bk_acc = {EW{1'b0}};
            bk_acc[31:0] = mx_acc;
          end
        end
      end else begin : g_nobk
        always @* bk_acc = {EW{1'b0}};
      end
      if (BLK_UNITS == 0 || j >= BLK_UNITS) begin : g_nobf
        assign r_bot[j] = 1'b0;
        assign r_boa[j] = 1'b0;
        assign r_brd[j] = 1'b0;
      end
      // The 32-bit schemes' sums: w4a8-is's int32 sign-extended (the epilogue converts all EW
      // bits), w4a8-fs's binary32 as it is (read in the low 32 bits).
      reg [EW-1:0] sc_acc;
      always @* begin
        sc_acc = {EW{~r_fs & is_acc[31]}};
        sc_acc[31:0] = r_fs ? fs_acc : is_acc;
      end
      assign r_sum[EW*j+:EW] = r_blk ? bk_acc : sc_acc;
    end
  endgenerate
  reg sr_v;
  reg [31:0] sr_off, sr_n;
  localparam integer RW = 1 + 32 + 32 + EW * UR;
  // IS_LAT - 1 more registers after the integer-scale units, FS_LAT - 1 after the float-scale
  // units: a tile's rescale phase goes through its scheme's line (one tile at a time).
  wire [RW-1:0] r_in_is = {sr_v && !r_fs && !r_blk, sr_off, sr_n, r_sum};
  wire [RW-1:0] r_in_fs = {sr_v && r_fs, sr_off, sr_n, r_sum};
  wire [RW-1:0] r_in_bk = {sr_v && r_blk, sr_off, sr_n, r_sum};
  wire [RW-1:0] r_out_is, r_out_fs, r_out_bk;
  wire [RW-1:0] r_out = r_out_is[RW-1] ? r_out_is : r_out_fs[RW-1] ? r_out_fs : r_out_bk;
  generate
    if (IS_LAT == 1) begin : g_rlat1
      assign r_out_is = r_in_is;
    end else begin : g_rlatn
      delay_line #(
          .W(RW),
          .D(IS_LAT - 1)
      ) dl (
          .clk(clk),
          .rst(rst),
          .d  (r_in_is),
          .q  (r_out_is)
      );
    end
    if (BLK_UNITS == 0 || BLK_LAT == 1) begin : g_blat1
      assign r_out_bk = r_in_bk;
    end else begin : g_blatn
      delay_line #(
          .W(RW),
          .D(BLK_LAT - 1)
      ) dlb (
          .clk(clk),
          .rst(rst),
          .d  (r_in_bk),
          .q  (r_out_bk)
      );
    end
    if (FS_LAT == 1) begin : g_flat1
      assign r_out_fs = r_in_fs;
    end else begin : g_flatn
      delay_line #(
          .W(RW),
          .D(FS_LAT - 1)
      ) dlf (
          .clk(clk),
          .rst(rst),
          .d  (r_in_fs),
          .q  (r_out_fs)
      );
    end
  endgenerate
  assign ea_we  = r_out[RW-1];
  assign ea_off = r_out[RW-2-:32];
  assign ea_n   = r_out[RW-34-:32];
  assign ea_wd  = r_out[EW*UR-1:0];

  // Epilogue lanes: stage 0 (the reads, registered), then EPI_LAT - 1 registers, then the write.
  reg s0_v, s0_fs, s0_nv;
  reg [OBW-1:0] s0_par;
  reg [31:0] s0_off, s0_n;
  reg [EW*U-1:0] s0_acc;
  reg [32*U-1:0] s0_sx, s0_s2;
  wire [16*U-1:0] y_lanes;
  wire [32*U-1:0] sw32;
  generate
    for (j = 0; j < U; j = j + 1) begin : g_epi
      f16_to_f32 widen (
          .h(cs[COLS*{{(32 - LREG) {1'b0}}, c_reg}+lc[32*j+:32]]),
          .f(sw32[32*j+:32])
      );
      epilogue_lane #(
          .HALF(PE == 1 || PE == 2 ? 1 : 0),
          .UNIT(BLK_NV == 0 ? 0 : BU),
          .ACC_W(EW)
      ) epi (
          .acc(s0_acc[EW*j+:EW]),
          .acc_f32(s0_fs),
          .nv (s0_nv),
          .sx (s0_sx[32*j+:32]),
          .s2 (s0_s2[32*j+:32]),
          .y  (y_lanes[16*j+:16])
      );
    end
  endgenerate
  // The write into the output buffer: {valid, buffer, offset, count, lanes}.
  localparam integer PW = 1 + OBW + 32 + 32 + 16 * U;
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
  wire [OBW-1:0] o_par = p_out[PW-2-:OBW];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] o_off = p_out[PW-2-OBW-:32];
  wire [31:0] o_n = p_out[PW-34-OBW-:32];
  /* verilator lint_on UNUSEDSIGNAL */
  reg [NBF*16-1:0] o_wd;
  always @* begin
    o_wd = {NBF * 16{1'b0}};
    o_wd[16*U-1:0] = p_out[16*U-1:0];
  end

  // ---- write DMA --------------------------------------------------------------------------------
  // WriteDma: a finished tile's write is one request of its out_bytes, issued at its finish
  // cycle, or, when its layer is a later one than the open layer (layers that overlap: the
  // later layer's fetches did not wait for the earlier one), in the cycle the open layer closes
  // (the model's writer takes the jobs in order, a layer's last job waiting for its writes).
  // The jobs in order: a ring of OBUFS (one an output buffer), [jq_h, jq_i) issued, their data
  // streaming from the head, a beat a cycle from the cycle after its issue; [jq_i, jq_t)
  // waiting; this cycle's finishing tile joins at jq_t. The waiting jobs that may go leave
  // together, a lane each, in order.
  reg [OBW-1:0] jq_buf[0:OBUFS-1];
  reg [31:0] jq_nb[0:OBUFS-1], jq_addr[0:OBUFS-1], jq_bytes[0:OBUFS-1];
  reg [TW-1:0] jq_tile[0:OBUFS-1];
  reg [OBW:0] jq_h, jq_i, jq_t;  // (one bit more than an index: full and empty differ)
  reg [31:0] jq_b;  // beats of the head sent
  reg [31:0] w_out;  // writes requested, not complete
  reg [15:0] fin;  // tiles finished by the edge
  wire push_new = fin_a && e_ob != 0;  // (the edge's tile, which finishes first, is tile `fin`)
  wire [OBW:0] n_wait = jq_t - jq_i;
  wire [OBW:0] n_ring = jq_t - jq_h;
  wire wq_stream = jq_h != jq_i;  // the head's data is streaming out
  wire [OBW-1:0] jh = jq_h[OBW-1:0];
  // Layers: the open one (its first tile, open_first) closes once its last tile is finished and
  // every write is complete (none of its jobs leaving in this cycle).
  reg [TW-1:0] open_first, nclosed;
  wire [TI-1:0] of_i = open_first[TI-1:0];
  wire [31:0] open_last = cmem[{of_i, 5'd21}];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] next_first = open_last + 1;
  wire [31:0] next_last = cmem[{next_first[TI-1:0], 5'd21}];  // the next layer's last tile
  /* verilator lint_on UNUSEDSIGNAL */
  // Lane j: the j-th waiting job, or this cycle's new one after them.
  reg [OBUFS-1:0] l_has, l_open, l_go;
  reg [TW-1:0] l_tile[0:OBUFS-1];
  reg [31:0] l_addr[0:OBUFS-1], l_bytes[0:OBUFS-1];
  reg [OBW:0] n_go;
  reg open_run, go_run;  // every lane before this one's job goes (a job leaves only in order)
  wire [31:0] fin_now = {31'd0, fin_a} + {30'd0, fin_b};
  wire issue_open = l_open[0];
  wire close_now = run && open_first < ntiles && {16'd0, fin} + fin_now > open_last &&
      w_out == {28'd0, wr_done_count} && !issue_open;
  assign closed_now = nclosed + {{(TW - 1) {1'b0}}, close_now};
  // The last tile whose write may leave now: the open layer's, or, once it closes, the next's.
  wire [31:0] lim = close_now ? next_last : open_last;
  integer jl, jm, jn;  // (each combinational block its own loop variable)
  /* verilator lint_off UNUSEDSIGNAL */  // (ring positions: the index is the low bits)
  reg [OBW:0] ji, jb;
  /* verilator lint_on UNUSEDSIGNAL */
  // (Two blocks: the open layer's jobs decide the close, which decides the others'.)
  always @* begin
    open_run = 1'b1;
    for (jl = 0; jl < OBUFS; jl = jl + 1) begin
      ji = jq_i + jl[OBW:0];
      l_has[jl] = jl[OBW:0] < n_wait || (jl[OBW:0] == n_wait && push_new);
      l_tile[jl] = jl[OBW:0] < n_wait ? jq_tile[ji[OBW-1:0]] : fin;
      l_addr[jl] = jl[OBW:0] < n_wait ? jq_addr[ji[OBW-1:0]] : e_oaddr;
      l_bytes[jl] = jl[OBW:0] < n_wait ? jq_bytes[ji[OBW-1:0]] : e_ob;
      l_open[jl] = open_run && l_has[jl] && {16'd0, l_tile[jl]} <= open_last;
      open_run = l_open[jl];
    end
  end
  always @* begin
    n_go = 0;
    go_run = 1'b1;
    for (jm = 0; jm < OBUFS; jm = jm + 1) begin
      l_go[jm] = go_run && l_has[jm] && {16'd0, l_tile[jm]} <= lim;
      go_run = l_go[jm];
      n_go = n_go + {{OBW{1'b0}}, l_go[jm]};
    end
  end
  genvar jg;
  generate
    for (jg = 0; jg < OBUFS; jg = jg + 1) begin : g_wlane
      assign wr_req_valid[jg] = l_go[jg];
      assign wr_req_addr[32*jg+:32] = l_addr[jg];
      assign wr_req_bytes[32*jg+:32] = l_bytes[jg];
    end
  endgenerate
  assign wr_beat_valid = wq_stream;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] wbo = jq_b << (LBEAT - 1);  // the head's next beat, in fp16 elements
  /* verilator lint_on UNUSEDSIGNAL */
  /* verilator lint_off UNUSEDSIGNAL */  // (a beat is the first BEAT / 2 elements read)
  wire [NBF*16-1:0] out_q;
  /* verilator lint_on UNUSEDSIGNAL */
  flat_mem #(
      .EW(16),
      .NB(NBF),
      .WORDS(OBUFS * HALF_O / NBF),
      .NR(1),
      .AW(FAW)
  ) outbuf (
      .clk(clk),
      .we(o_we),
      .waddr({o_par, o_off[LHO-1:0]}),
      .wcount(o_n[$clog2(NBF):0]),
      .wdata(o_wd),
      .raddr({jq_buf[jh], wbo[LHO-1:0]}),
      .rdata(out_q)
  );
  assign wr_beat_data = out_q[BEAT*8-1:0];
  wire pop = wq_stream && jq_b + 1 == jq_nb[jh];
  // The buffer the edge's next written tile would fill is still in use: a job's (waiting or
  // streaming, or joining now).
  reg ob_busy;
  always @* begin
    ob_busy = push_new && e_oh == oh_next;
    for (jn = 0; jn < OBUFS; jn = jn + 1) begin
      jb = jq_h + jn[OBW:0];
      if (jn[OBW:0] < n_ring && jq_buf[jb[OBW-1:0]] == oh_next) ob_busy = 1'b1;
    end
  end
  assign done = run && ntiles != 0 && {16'd0, fin} + fin_now == {16'd0, ntiles} &&
      w_out == {28'd0, wr_done_count} && n_go == 0 && n_wait == 0 && !push_new;

  always @(posedge clk) begin
    if (rst) begin
      e_left <= 0;
      e_has <= 1'b0;
      e_ec <= 0;
      e_nbr <= 0;
      e_rcyc <= 0;
      e_nbe <= 0;
      e_totr <= 0;
      e_tote <= 0;
      e_nc <= 0;
      e_ob <= 0;
      e_oaddr <= 0;
      e_s2 <= 0;
      e_reg <= 0;
      e_is <= 1'b0;
      e_fs <= 1'b0;
      e_blk <= 1'b0;
      e_nv <= 1'b0;
      e_tsx <= 0;
      e_first <= 1'b0;
      e_oh <= 0;
      e_mb <= 0;
      e_tb <= 0;
      e_pt <= 1'b0;
      e_m0 <= 0;
      e_c0 <= 0;
      oh_next <= 0;
      sr_v <= 1'b0;
      r_fs <= 1'b0;
      r_blk <= 1'b0;
      r_nv <= 1'b0;
      s0_v <= 1'b0;
      s0_nv <= 1'b0;
      jq_h <= 0;
      jq_i <= 0;
      jq_t <= 0;
      jq_b <= 0;
      w_out <= 0;
      fin <= 0;
      open_first <= 0;
      nclosed <= 0;
      n_scale_rd <= 0;
      n_is_ovf <= 0;
      n_blk_rnd <= 0;
      err5 <= 1'b0;
    end else begin
      if (e_left != 0) e_left <= e_left - 1;
      if (e_has) e_ec <= e_ec + 1;
      if (fin_a) e_has <= 1'b0;
      if (take_w) begin
        e_left <= p_cyc - 1;
        e_has <= 1'b1;
        e_ec <= 1;
        e_nbr <= p_nbr;
        e_rcyc <= p_rcyc;
        e_nbe <= p_nbe;
        e_totr <= p_rs;
        e_tote <= p_epi;
        e_nc <= p_nc;
        e_ob <= p_ob;
        e_oaddr <= p_oaddr;
        e_s2 <= p_s2;
        e_reg <= p_reg;
        e_is <= p_fl[3] || p_fl[4] || p_blk;
        e_fs <= p_fl[4];
        e_blk <= p_blk;
        e_nv <= p_nv;
        e_tsx <= p_tsx;
        e_first <= p_first;
        e_oh <= oh_next;
        e_mb <= p_mb[1:0];
        e_tb <= tb[pt_i];
        e_pt <= p_fl[9];
        if (p_ob != 0) begin
          oh_next <= oh_next + 1'b1;
          // The buffer it fills must have been written out.
          if (ob_busy) err5 <= 1'b1;
        end
      end
      sr_v <= r_issue;
      if (r_issue) begin
        r_fs  <= c_fs;
        r_blk <= c_blk;
        r_nv  <= c_nv;
      end
      // Scale words read: the rescale lanes' and the DGQ dequantizers' (one a weight).
      n_scale_rd <= n_scale_rd + dq_n +
          (r_issue ? (c_totr - b_off < c_ur ? c_totr - b_off : c_ur) : 32'd0);
      if (r_issue) begin
        sr_off <= b_off;
        sr_n <= c_totr - b_off < c_ur ? c_totr - b_off : c_ur;
        n_is_ovf <= n_is_ovf + ovf_now;
        n_blk_rnd <= n_blk_rnd + rnd_now;
      end
      s0_v <= e_issue;
      if (e_issue) begin
        s0_par <= c_oh;
        s0_fs <= c_fs || (c_blk && BLK_FIXED == 0);
        s0_nv <= c_nv;
        s0_off <= b_off;
        s0_n <= c_tote - b_off < U ? c_tote - b_off : U;
        for (c = 0; c < U; c = c + 1) begin
          // (Both signed: w8a8's int32 sums sign-extend into a wider lane, as meant.)
          /* verilator lint_off WIDTH */
          s0_acc[EW*c+:EW] <= c_is ? $signed(eacc_q[EW*c+:EW]) : $signed(ofm_q1[32*c+:32]);
          /* verilator lint_on WIDTH */
          // (MX: y = F16(acc), both scales 1; NVFP4: s_tx and s_tw, after 2^-u.)
          s0_sx[32*c+:32] <= c_nv ? c_tsx : c_blk ? 32'h3f800000 :
              c_pt ? xs_t[c_tb] : xs[{c_mb, lm[32*c+:LM]}];
          s0_s2[32*c+:32] <= c_is ? c_s2 : sw32[32*c+:32];
        end
      end
      if (r_issue) begin
        e_m0 <= lm[32*c_ur+:32];
        e_c0 <= lc[32*c_ur+:32];
      end else if (e_issue) begin
        e_m0 <= lm[32*U+:32];
        e_c0 <= lc[32*U+:32];
      end
      // Write DMA: the head's beats; the new job joins the ring (a full ring: the write queue
      // overrun); the jobs that left move jq_i.
      if (pop) begin
        jq_h <= jq_h + 1'b1;
        jq_b <= 0;
      end else if (wq_stream) begin
        jq_b <= jq_b + 1;
      end
      if (push_new) begin
        if (n_ring == OBUFS[OBW:0]) err5 <= 1'b1;
        jq_buf[jq_t[OBW-1:0]] <= e_oh;
        jq_nb[jq_t[OBW-1:0]] <= (e_ob + BEAT - 1) >> LBEAT;
        jq_addr[jq_t[OBW-1:0]] <= e_oaddr;
        jq_bytes[jq_t[OBW-1:0]] <= e_ob;
        jq_tile[jq_t[OBW-1:0]] <= fin;
        jq_t <= jq_t + 1'b1;
      end
      jq_i <= jq_i + n_go;
      w_out <= w_out + {{(31 - OBW) {1'b0}}, n_go} - {28'd0, wr_done_count};
      fin <= fin + fin_now[15:0];
      if (close_now) begin
        open_first <= open_last[TW-1:0] + 1;
        nclosed <= nclosed + 1;
      end
    end
  end

  assign ev_start = start_now;
  assign ev_load_done = ld_fin || os_l0;
  assign ev_stream_start = ss_now;
  assign ev_stream_done = st_fin;
  assign ev_drain_done = drain_now;
  assign ev_edge_accept = n_take;
  assign ev_edge_finish = fin_now[1:0];
  assign ev_layer_close = close_now;
endmodule
