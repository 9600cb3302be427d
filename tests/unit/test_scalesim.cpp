// Do SCALE-Sim v2 topology CSVs convert both ways with the shapes SCALE-Sim itself computes?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "numerics/error.hpp"
#include "trace/scalesim.hpp"

namespace quasar::trace {
namespace {

using ::testing::HasSubstr;

LayerScheme w8a8() {
  LayerScheme s;
  s.scheme = Scheme::w8a8;
  return s;
}

std::string error_of(const std::string& csv) {
  try {
    import_scalesim_csv(csv, "topo.csv", w8a8());
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ScaleSim, GemmFormRowsAreMNK) {
  // SCALE-Sim's gpt2.csv style: header, then "name,M,N,K," with the trailing comma.
  const Trace t = import_scalesim_csv("Layer,M,N,K,\nQKT,1024,1024,64,\nQKTV,1024,64,1024,\n",
                                      "gpt2.csv", w8a8());
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].m, 1024u);
  EXPECT_EQ(t.layers[0].n, 1024u);
  EXPECT_EQ(t.layers[0].k, 64u);
  EXPECT_EQ(t.layers[1].n, 64u);
  EXPECT_EQ(t.layers[1].k, 1024u);
  EXPECT_EQ(t.layers[1].scheme->scheme, Scheme::w8a8);
}

TEST(ScaleSim, ConvRowsUseIm2colAndSCALESimsOutputSize) {
  // Resnet18 Conv1: 224x224 input, 7x7 filter, 3 channels, 64 filters, stride 2:
  // ofmap = ceil((224 - 7 + 2) / 2) = 110 per side -> M = 12100, K = 7*7*3 = 147, N = 64.
  const Trace t = import_scalesim_csv(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
      "Strides,\n"
      "Conv1,224,224,7,7,3,64,2,\nConv2_1a,56,56,3,3,64,64,1,\nDP_1,10,12,3,3,32,1,1,2,\n",
      "resnet.csv", w8a8());
  ASSERT_EQ(t.layers.size(), 3u);
  EXPECT_EQ(t.layers[0].m, 12100u);
  EXPECT_EQ(t.layers[0].k, 147u);
  EXPECT_EQ(t.layers[0].n, 64u);
  EXPECT_EQ(t.layers[1].m, 54u * 54u);
  EXPECT_EQ(t.layers[1].k, 576u);
  // Depthwise: 32 single-channel convolutions; stride 1 x 2: ofmap 8 x ceil((12-3+2)/2) = 8 x 6.
  EXPECT_EQ(t.layers[2].repeat, 32u);
  EXPECT_EQ(t.layers[2].k, 9u);
  EXPECT_EQ(t.layers[2].m, 48u);
}

TEST(ScaleSim, ExportExpandsBatchAndRepeatAndReimports) {
  Trace t;
  t.name = "x";
  Layer a;
  a.name = "proj";
  a.op = Op::linear;
  a.m = 8, a.k = 64, a.n = 16;
  a.scheme = w8a8();
  Layer b = a;
  b.name = "qk";
  b.op = Op::bmm;
  b.batch = 2;
  b.repeat = 3;
  Layer norm;
  norm.name = "norm";
  norm.op = Op::rmsnorm;
  norm.m = 8, norm.n = 64;
  t.layers = {a, norm, b};
  const std::string csv = export_scalesim_csv(t);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "Layer, M, N, K,");
  EXPECT_THAT(csv, HasSubstr("proj, 8, 16, 64,\n"));
  EXPECT_THAT(csv, HasSubstr("qk#5, 8, 16, 64,\n"));
  EXPECT_THAT(csv, ::testing::Not(HasSubstr("norm")));
  const Trace back = import_scalesim_csv(csv, "back.csv", w8a8());
  EXPECT_EQ(back.layers.size(), 7u);
  EXPECT_EQ(back.total_macs(), t.total_macs());
}

TEST(ScaleSim, RejectsBadCsv) {
  EXPECT_THAT(error_of("Layer,A,B,C,\n"), HasSubstr("topo.csv:1: header is neither"));
  EXPECT_THAT(error_of("Layer,M,N,K,\nfc,4,8,16\n"),
              HasSubstr("topo.csv:2: row does not end with ','"));
  EXPECT_THAT(error_of("Layer,M,N,K,\nfc,4,x,16,\n"),
              HasSubstr("topo.csv:2: N 'x' is not a positive integer"));
  EXPECT_THAT(error_of("Layer,M,N,K,\nfc,4,0,16,\n"), HasSubstr("N '0' is not a positive integer"));
  EXPECT_THAT(error_of("Layer,M,N,K,\nfc,4,8,16,\nfc,4,8,16,\n"),
              HasSubstr("topo.csv:3: layer name 'fc' repeats"));
  EXPECT_THAT(error_of(""), HasSubstr("empty file"));
  EXPECT_THAT(error_of("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                       "Channels, Num Filter, Strides,\n"
                       "c,3,3,5,5,1,1,1,\n"),
              HasSubstr("filter larger than the input feature map"));
}

}  // namespace
}  // namespace quasar::trace
