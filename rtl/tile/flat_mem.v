// flat_mem: a buffer of EW-bit elements at consecutive "flat" addresses, interleaved over NB
// banks (element a in bank a % NB, word a / NB), so that any NB consecutive elements, from any
// address, sit in NB different banks: one write and NR reads of up to NB consecutive elements
// each per cycle, with no alignment. The tile keeps its operand slots, partial sums and outputs
// in these: a tile's ragged rows (rows_used or cols_used elements) are packed one after another,
// as the DMA moves them, and read back a row at a time.
//
// Parameters: EW element bits; NB banks (a power of two, >= 2); WORDS words per bank (a power
// of two; NB * WORDS elements); NR read ports; AW address bits, log2(NB * WORDS); OLD a mask of
// the read ports that read old values (default none).
// Ports (clk: the write happens at the rising edge)
//   we, waddr, wcount, wdata   write elements waddr .. waddr + wcount - 1 (wcount <= NB) with
//                              wdata element i (wdata[EW i +: EW]) at waddr + i
//   raddr[AW p +: AW]          read port p: rdata[NB EW p + EW i +: EW] is the element at
//                              raddr_p + i, i < NB (combinational; write-first: an element this
//                              cycle's write changes reads as the written value, unless bit p
//                              of OLD is set: then it reads as before the write, for a
//                              read-modify-write of the same elements)
// The banks are plain register arrays with asynchronous reads (a register file; an SRAM macro
// with a registered read would need its address a cycle earlier).
module flat_mem #(
    parameter integer EW    = 8,
    parameter integer NB    = 16,
    parameter integer WORDS = 16,
    parameter integer NR    = 1,
    parameter integer AW    = 16,
    parameter integer OLD   = 0
) (
    input  wire                  clk,
    input  wire                  we,
    input  wire [        AW-1:0] waddr,
    input  wire [  $clog2(NB):0] wcount,
    input  wire [     NB*EW-1:0] wdata,
    input  wire [     NR*AW-1:0] raddr,
    output wire [NR*NB*EW-1:0]   rdata
);
  localparam integer LB = $clog2(NB);  // bank bits
  localparam integer WB = $clog2(WORDS);  // word bits

  // The write, per bank: which element of wdata it takes (i = (b - waddr) mod NB), whether
  // i < wcount, and its word (the next one for banks before waddr's).
  wire [LB-1:0] wrot = waddr[LB-1:0];
  wire [WB-1:0] wword = waddr[LB+WB-1:LB];
  wire [NB-1:0] bank_we;
  wire [NB*WB-1:0] bank_ww;
  wire [NB*EW-1:0] bank_wd;
  wire [NR*NB*EW-1:0] bank_q;  // read port p, bank b: bank_q[EW (NB p + b) +: EW]

  genvar b, p, i;
  generate
    for (b = 0; b < NB; b = b + 1) begin : g_bank
      wire [LB-1:0] wi = LB'(b) - wrot;
      assign bank_we[b] = we && {1'b0, wi} < wcount;
      // (The last bank is never before waddr's.)
      if (b == NB - 1) begin : g_last
        assign bank_ww[WB*b+:WB] = wword;
      end else begin : g_other
        assign bank_ww[WB*b+:WB] = wword + {{(WB - 1) {1'b0}}, LB'(b) < wrot};
      end
      assign bank_wd[EW*b+:EW] = wdata[EW*wi+:EW];
      reg [EW-1:0] cells[0:WORDS-1];
      always @(posedge clk) if (bank_we[b]) cells[bank_ww[WB*b+:WB]] <= bank_wd[EW*b+:EW];
      // Read ports: this bank's word for each.
      for (p = 0; p < NR; p = p + 1) begin : g_rd
        wire [WB-1:0] rw;
        if (b == NB - 1) begin : g_last
          assign rw = raddr[AW*p+LB+:WB];
        end else begin : g_other
          assign rw = raddr[AW*p+LB+:WB] + {{(WB - 1) {1'b0}}, LB'(b) < raddr[AW*p+:LB]};
        end
        if (((OLD >> p) & 1) != 0) begin : g_old
          assign bank_q[EW*(NB*p+b)+:EW] = cells[rw];
        end else begin : g_wfirst
          assign bank_q[EW*(NB*p+b)+:EW] =
              (bank_we[b] && bank_ww[WB*b+:WB] == rw) ? bank_wd[EW*b+:EW] : cells[rw];
        end
      end
    end
    // Read port p's element i is in bank (raddr_p + i) mod NB.
    for (p = 0; p < NR; p = p + 1) begin : g_port
      for (i = 0; i < NB; i = i + 1) begin : g_el
        wire [LB-1:0] bank = raddr[AW*p+:LB] + LB'(i);
        assign rdata[NB*EW*p+EW*i+:EW] = bank_q[EW*NB*p+EW*bank+:EW];
      end
    end
  endgenerate
endmodule
