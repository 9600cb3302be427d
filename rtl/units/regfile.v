// regfile: a flip-flop register file with one write and one read port, the storage an edge
// unit (integer-scale or float-scale accumulator, DGQ dequantizer) keeps its group scales in:
// the loader writes the scales of the weight tile that comes next while the unit reads those
// of the tile in use. Only its cost is used (configs/tech/units-osu018.yaml, regfile_*): area,
// leakage, and switching energy per read and per write (scripts/gen-tech-units.sh).
//
// Parameters: ENTRIES words of W bits, a power of two >= 2 (every address names a word);
//             AW address bits (derived, do not override).
// Ports
//   clk            rising-edge clock; no reset: scales are written before they are read
//   we, waddr, wdata  when we = 1 at a rising edge, word waddr <= wdata
//   raddr, rdata   combinational read of word raddr
// No clock gating: every word's flops see every clock edge, so an idle cycle still costs the
// clock tree's energy (measured, not hidden).
module regfile #(
    parameter integer ENTRIES = 4,
    parameter integer W = 16,
    parameter integer AW = $clog2(ENTRIES)
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [ W-1:0] wdata,
    input  wire [AW-1:0] raddr,
    output wire [ W-1:0] rdata
);
  reg [W-1:0] words[0:ENTRIES-1];

  always @(posedge clk) begin
    if (we) words[waddr] <= wdata;
  end

  assign rdata = words[raddr];
endmodule
