// Does the safetensors reader accept exactly the valid files and reject each malformed one
// with an error naming the file and the problem? Does the writer round-trip?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "trace/safetensors.hpp"

namespace quasar::safetensors {
namespace {

using ::testing::HasSubstr;

// A file image written by hand (not by the writer under test): header length, JSON, data.
std::vector<std::uint8_t> image(const std::string& header, std::size_t data_bytes,
                                std::uint64_t declared_len = UINT64_MAX) {
  const std::uint64_t n = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<std::uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  for (std::size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<std::uint8_t>(i));
  return out;
}

std::string error_of(const std::vector<std::uint8_t>& img) {
  try {
    parse(img, "case.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ParsesHandWrittenFile) {
  const std::string h =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"I8","shape":[1,3],"data_offsets":[8,11]},"__metadata__":{"k":"v"}})";
  const File f = parse(image(h, 11), "case");
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.get("a", "case").dtype, DType::F32);
  EXPECT_EQ(f.get("b", "case").shape, (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(f.get("b", "case").bytes, (std::vector<std::uint8_t>{8, 9, 10}));
  EXPECT_EQ(f.metadata.at("k"), "v");
}

TEST(Safetensors, AcceptsHeaderPaddedWithSpaces) {
  const std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}    )";
  EXPECT_EQ(parse(image(h, 1), "case").tensors.size(), 1u);
}

TEST(Safetensors, RoundTripsEveryMatrixType) {
  File f;
  MatrixF m(2, 3);
  for (std::size_t i = 0; i < m.size(); ++i) m.values()[i] = 0.5f * static_cast<float>(i) - 1.0f;
  MatrixH h(1, 2);
  h(0, 0) = f32_to_f16(1.5f);
  h(0, 1) = f32_to_f16(-2.0f);
  f.tensors["f32"] = from_matrix(m);
  f.tensors["f16"] = from_matrix(h);
  f.tensors["i8"] = from_matrix(MatrixI8(3, 1, -5));
  f.tensors["u8"] = from_matrix(MatrixU8(1, 1, 200));
  f.tensors["i32"] = from_matrix(MatrixI32(2, 2, -70000));
  f.tensors["vec"] = from_vector({1.0f, 2.0f});
  f.tensors["empty"] = from_matrix(MatrixF(0, 4));
  f.metadata["origin"] = "test";
  const std::vector<std::uint8_t> bytes = serialize(f);
  EXPECT_EQ((bytes[0] | (bytes[1] << 8)) % 8, 0) << "header padded to 8 bytes";
  const File g = parse(bytes, "mem");
  ASSERT_EQ(g.tensors.size(), f.tensors.size());
  for (const auto& [name, t] : f.tensors) {
    EXPECT_EQ(g.get(name, "mem").bytes, t.bytes) << name;
    EXPECT_EQ(g.get(name, "mem").shape, t.shape) << name;
    EXPECT_EQ(g.get(name, "mem").dtype, t.dtype) << name;
  }
  EXPECT_EQ(g.metadata, f.metadata);
  EXPECT_EQ(to_matrix_f32(g.get("f32", "mem"), "f32", "mem"), m);
  EXPECT_EQ(to_matrix_f32(g.get("f16", "mem"), "f16", "mem")(0, 0), 1.5f);
  EXPECT_EQ(serialize(g), bytes) << "deterministic bytes";
}

TEST(Safetensors, RejectsShortFile) {
  EXPECT_THAT(error_of({1, 2, 3}), HasSubstr("shorter than the 8-byte header length"));
}

TEST(Safetensors, RejectsHeaderLengthBeyondFile) {
  EXPECT_THAT(error_of(image("{}", 0, 500)), HasSubstr("runs past the end"));
}

TEST(Safetensors, RejectsHeaderOverLimit) {
  EXPECT_THAT(error_of(image("{}", 0, 100'000'001)),
              HasSubstr("exceeds the 100,000,000-byte limit"));
}

TEST(Safetensors, RejectsHeaderNotStartingWithBrace) {
  EXPECT_THAT(error_of(image(" {}", 0)), HasSubstr("does not start with '{'"));
}

TEST(Safetensors, RejectsInvalidJson) {
  EXPECT_THAT(error_of(image("{\"a\":", 0)), HasSubstr("not valid JSON"));
}

TEST(Safetensors, RejectsUnknownDtype) {
  const std::string h = R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})";
  const std::string e = error_of(image(h, 1));
  EXPECT_THAT(e, HasSubstr("tensor 'a': unknown dtype 'Q4'"));
  EXPECT_THAT(e, HasSubstr("BF16"));  // says what is accepted
}

TEST(Safetensors, RejectsWrongByteCount) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  EXPECT_THAT(error_of(image(h, 8)), HasSubstr("tensor 'a': data_offsets span 8 bytes"));
}

TEST(Safetensors, RejectsOverlappingOffsets) {
  const std::string h = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                        R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})";
  EXPECT_THAT(error_of(image(h, 6)), HasSubstr("tensor 'b' overlaps"));
}

TEST(Safetensors, RejectsHoleBetweenTensors) {
  const std::string h = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                        R"("b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})";
  EXPECT_THAT(error_of(image(h, 5)), HasSubstr("tensor 'b' starts at 3, leaving a hole"));
}

TEST(Safetensors, RejectsTrailingBytes) {
  const std::string h = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  EXPECT_THAT(error_of(image(h, 3)), HasSubstr("trailing or missing bytes"));
}

TEST(Safetensors, RejectsOffsetsBeyondBuffer) {
  const std::string h = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})";
  EXPECT_THAT(error_of(image(h, 2)), HasSubstr("beyond the data buffer"));
}

TEST(Safetensors, RejectsDuplicateKeys) {
  const std::string h = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                        R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  EXPECT_THAT(error_of(image(h, 2)), HasSubstr("repeats the key 'a'"));
}

TEST(Safetensors, RejectsNegativeShapeAndBadOffsets) {
  EXPECT_THAT(error_of(image(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", 0)),
              HasSubstr("negative dimension"));
  EXPECT_THAT(error_of(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1]}})", 1)),
              HasSubstr("'data_offsets' must be [begin, end]"));
  EXPECT_THAT(error_of(image(R"({"a":{"dtype":"U8","shape":[1]}})", 1)),
              HasSubstr("'data_offsets' must be [begin, end]"));
}

TEST(Safetensors, RejectsUnknownEntryKeyAndBadMetadata) {
  EXPECT_THAT(error_of(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", 1)),
              HasSubstr("unknown key 'x'"));
  EXPECT_THAT(error_of(image(R"({"__metadata__":{"k":1}})", 0)),
              HasSubstr("__metadata__ key 'k' is not a string"));
}

TEST(Safetensors, MissingTensorNamesWhatExists) {
  const File f = parse(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1), "f");
  try {
    f.get("x", "in.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("in.safetensors: tensor 'x' is missing (the file has: a)"));
  }
}

TEST(Safetensors, MatrixViewChecksRankAndDtype) {
  Tensor t = from_vector({1.0f});
  EXPECT_THROW(to_matrix_f32(t, "v", "f"), Error);
  Tensor i = from_matrix(MatrixI8(1, 1));
  try {
    to_matrix_f32(i, "codes", "in.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("in.safetensors: tensor 'codes' has dtype I8"));
  }
}

TEST(Safetensors, ReadReportsUnopenableFile) {
  EXPECT_THROW(read("/nonexistent/dir/file.safetensors"), Error);
}

// The lazy reader: header checks against the file's size, each tensor read only when asked.
TEST(Safetensors, LazyFileReadsOneTensorAtATime) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/lazy.safetensors";
  const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"I8","shape":[1,3],"data_offsets":[8,11]}})";
  const std::vector<std::uint8_t> img = image(h, 11);
  auto write_image = [&](const std::vector<std::uint8_t>& bytes) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  };
  write_image(img);
  const LazyFile lazy = LazyFile::open(path);
  EXPECT_TRUE(lazy.has("a"));
  EXPECT_FALSE(lazy.has("c"));
  const Tensor b = lazy.load("b");
  EXPECT_EQ(b.shape, (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(b.bytes, (std::vector<std::uint8_t>{8, 9, 10}));
  EXPECT_EQ(lazy.load("a").bytes, parse(img, "case").get("a", "case").bytes);
  EXPECT_THAT([&] { lazy.load("c"); }, ::testing::ThrowsMessage<Error>(
                                           HasSubstr("lazy.safetensors: tensor 'c' is missing")));

  // A truncated file fails at open, with the same message parse gives for the whole image.
  std::vector<std::uint8_t> cut(img.begin(), img.end() - 1);
  write_image(cut);
  const std::string want = error_of(cut).substr(std::string("case.safetensors").size());
  ASSERT_FALSE(want.empty());
  EXPECT_THAT([&] { LazyFile::open(path); }, ::testing::ThrowsMessage<Error>(HasSubstr(want)));
  // Shrunk after open: the read names the tensor instead of returning short data.
  write_image(img);
  const LazyFile before = LazyFile::open(path);
  write_image(std::vector<std::uint8_t>(img.begin(), img.begin() + 8 + h.size() + 4));
  EXPECT_THAT([&] { before.load("b"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'b': could not read its bytes")));
}

}  // namespace
}  // namespace quasar::safetensors
