// toggle_harness: drives a Verilated gate-level netlist of one unit (yosys `abc -liberty` output
// plus the Liberty cell models) with an operand stream and counts, per bit of every net of the
// top module, its rising and falling transitions. Built by scripts/gen-tech-units.sh with
// `verilator --prefix Vunit` and a generated unit_ports.h on the include path; not part of the
// CMake build. The same source serves every unit: unit_ports.h only lists the netlist's inputs,
//   #define QUASAR_INPUTS X(acc_in, 32) X(clk, 1) X(p, 32) ...
// and the stream names the ports it drives.
//
//   toggle_harness STREAM WARMUP OUT.tsv
// STREAM (quasar_unit_streams): a line "ports NAME:WIDTH ...", then one line per operation with
// one unsigned value per named port (decimal, or 0x and hex digits: the ports wider than 64
// bits). Inputs the stream does not name are held at 0, except `en` (held at 1) and `rst` (1
// during the first operation). A unit with a `clk` input gets one clock cycle per operation;
// one without is evaluated once per operation. The first WARMUP ops run but are not counted
// (reset, initial X-free state). OUT: "ops N", then "net bit rises falls".
//
// Counting goes through Verilator's VCD writer (--trace) into an in-memory parser rather than
// a file: the VCD holds every named net, aliases included, with no per-netlist code here, and
// a run of 10^4-10^5 cycles would otherwise write hundreds of MB. One VCD sample per operation:
// values are those after the clock edge and the new operands settled (zero-delay, so glitches
// inside a cycle are invisible by construction).
#include <verilated.h>
#include <verilated_vcd_c.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "Vunit.h"
#include "unit_ports.h"

namespace {

struct Signal {
  std::string name;
  std::size_t width = 1;
  int lsb = 0;
  std::string value;                        // MSB first, '0'/'1'/'x'; empty before the first sample
  std::vector<std::uint64_t> rises, falls;  // index = bit offset from lsb
};

// Receives the VCD text Verilator writes and counts transitions of the top module's signals.
class ToggleCounter : public VerilatedVcdFile {
 public:
  bool open(const std::string&) override { return true; }
  void close() override {}
  ssize_t write(const char* bufp, ssize_t len) override {
    pending_.append(bufp, static_cast<std::size_t>(len));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      line(pending_.substr(start, nl - start));
    }
    pending_.erase(0, start);
    return len;
  }
  bool counting = false;
  const std::map<std::string, Signal>& signals() const { return signals_; }

 private:
  void line(const std::string& l) {
    if (l.empty()) return;
    if (!in_data_) {
      std::istringstream s(l);
      std::string tok;
      s >> tok;
      if (tok == "$scope") {
        ++depth_;
      } else if (tok == "$upscope") {
        --depth_;
      } else if (tok == "$var" && depth_ == 2) {  // TOP -> the netlist module
        std::string type, code, name, range;
        std::size_t width = 0;
        s >> type >> width >> code >> name >> range;
        Signal sig;
        sig.name = name;
        sig.width = width;
        if (range.size() > 2 && range[0] == '[')
          sig.lsb = std::atoi(range.c_str() + range.find(':') + 1);
        sig.rises.assign(width, 0);
        sig.falls.assign(width, 0);
        if (codes_.count(code) == 0) codes_[code] = name;  // an alias shares the code
        signals_[name] = sig;
      } else if (tok == "$enddefinitions") {
        in_data_ = true;
      }
      return;
    }
    if (l[0] == '#' || l[0] == '$') return;
    std::string code, bits;
    if (l[0] == 'b') {
      const std::size_t sp = l.find(' ');
      bits = l.substr(1, sp - 1);
      code = l.substr(sp + 1);
    } else {
      bits = l.substr(0, 1);
      code = l.substr(1);
    }
    const auto c = codes_.find(code);
    if (c == codes_.end()) return;
    Signal& sig = signals_[c->second];
    if (bits.size() < sig.width) bits.insert(0, sig.width - bits.size(), '0');
    if (counting && !sig.value.empty()) {
      for (std::size_t i = 0; i < sig.width; ++i) {
        const char before = sig.value[sig.width - 1 - i];
        const char after = bits[sig.width - 1 - i];
        if (before == '0' && after == '1') ++sig.rises[i];
        if (before == '1' && after == '0') ++sig.falls[i];
      }
    }
    sig.value = bits;
  }

  std::string pending_;
  bool in_data_ = false;
  int depth_ = 0;
  std::map<std::string, std::string> codes_;  // VCD id code -> first signal name
  std::map<std::string, Signal> signals_;
};

// An input value: 32-bit words, least significant first (a stream token is an unsigned decimal
// of up to 64 bits, or "0x" and hex digits for any width: the ports of more than 64 bits).
using Bits = std::vector<std::uint32_t>;

Bits parse_bits(const std::string& tok) {
  Bits v;
  if (tok.size() > 2 && tok[0] == '0' && tok[1] == 'x') {
    for (std::size_t end = tok.size(); end > 2; end = end >= 10 ? end - 8 : 2) {
      const std::size_t begin = end >= 10 ? end - 8 : 2;
      v.push_back(
          static_cast<std::uint32_t>(std::stoul(tok.substr(begin, end - begin), nullptr, 16)));
    }
  } else {
    const std::uint64_t d = std::stoull(tok);
    v = {static_cast<std::uint32_t>(d), static_cast<std::uint32_t>(d >> 32)};
  }
  return v;
}

// Sets a port of `width` bits: an integer (up to 64 bits) or Verilator's VlWide (more).
template <typename T>
void set_port(T& port, unsigned width, const Bits& v) {
  if constexpr (std::is_integral_v<T>) {
    std::uint64_t x = v.empty() ? 0 : v[0];
    if (v.size() > 1) x |= std::uint64_t{v[1]} << 32;
    port = static_cast<T>(width >= 64 ? x : x & ((std::uint64_t{1} << (width % 64)) - 1));
  } else {
    for (std::size_t i = 0; i < (width + 31) / 32; ++i) port[i] = i < v.size() ? v[i] : 0;
  }
}

// The netlist's input ports, by name, each with a setter.
struct Input {
  const char* name;
  unsigned bits;
  void (*set)(Vunit*, const Bits&);
};
#define X(port, width) {#port, width, [](Vunit* t, const Bits& v) { set_port(t->port, width, v); }},
const Input kInputs[] = {QUASAR_INPUTS};
#undef X

const Input* find_input(const std::string& name) {
  for (const Input& in : kInputs) {
    if (name == in.name) return &in;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s STREAM WARMUP OUT.tsv\n", argv[0]);
    return 2;
  }
  std::ifstream stream(argv[1]);
  const long warmup = std::atol(argv[2]);
  if (!stream) {
    std::fprintf(stderr, "toggle_harness: cannot read %s\n", argv[1]);
    return 1;
  }
  // The stream's port list: "ports NAME:WIDTH ...".
  std::vector<const Input*> driven;
  {
    std::string line, word;
    std::getline(stream, line);
    std::istringstream s(line);
    s >> word;
    if (word != "ports") {
      std::fprintf(stderr, "toggle_harness: %s does not start with a ports line\n", argv[1]);
      return 1;
    }
    while (s >> word) {
      const std::string name = word.substr(0, word.find(':'));
      const Input* in = find_input(name);
      if (in == nullptr || name == "clk") {
        std::fprintf(stderr, "toggle_harness: the netlist has no input '%s'\n", name.c_str());
        return 1;
      }
      driven.push_back(in);
    }
  }
  const Input* clk = find_input("clk");
  const Input* rst = find_input("rst");
  const Input* en = find_input("en");

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->traceEverOn(true);
  auto top = std::make_unique<Vunit>(ctx.get());
  ToggleCounter counter;
  VerilatedVcdC vcd(&counter);
  top->trace(&vcd, 99);
  vcd.open("in-memory");

  const Bits zero{0}, one{1};
  for (const Input& in : kInputs) in.set(top.get(), zero);
  if (en != nullptr) en->set(top.get(), one);
  if (rst != nullptr) rst->set(top.get(), one);
  top->eval();

  // One operation: with a clock, the rising edge (the flops take the previous op's result),
  // then the new operands; one sample of every net once both have settled, then the falling
  // edge. Without a clock: the new operands and one sample.
  std::uint64_t time = 0;
  long op = 0;
  long counted = 0;
  std::vector<Bits> values(driven.size());
  for (;;) {
    bool ok = true;
    std::string tok;
    for (auto& v : values) {
      ok = ok && static_cast<bool>(stream >> tok);
      if (ok) v = parse_bits(tok);
    }
    if (!ok) break;
    if (clk != nullptr) {
      clk->set(top.get(), one);
      top->eval();
    }
    if (rst != nullptr) rst->set(top.get(), op == 0 ? one : zero);
    for (std::size_t i = 0; i < driven.size(); ++i) driven[i]->set(top.get(), values[i]);
    top->eval();
    counter.counting = op >= warmup;
    vcd.dump(time++);
    if (clk != nullptr) {
      clk->set(top.get(), zero);
      top->eval();
    }
    if (op >= warmup) ++counted;
    ++op;
  }
  vcd.close();
  top->final();

  std::FILE* out = std::fopen(argv[3], "w");
  if (out == nullptr) return 1;
  std::fprintf(out, "ops %ld\n", counted);
  for (const auto& [name, sig] : counter.signals()) {
    for (std::size_t i = 0; i < sig.width; ++i) {
      std::fprintf(out, "%s %ld %llu %llu\n", name.c_str(), static_cast<long>(i),
                   static_cast<unsigned long long>(sig.rises[i]),
                   static_cast<unsigned long long>(sig.falls[i]));
    }
  }
  return std::fclose(out) == 0 && counted > 0 ? 0 : 1;
}
