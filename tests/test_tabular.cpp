#include <fstream>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/tabular.h"
#include "tests/test_util.h"

using namespace regula;
using regula::testutil::RegulaTest;

class Tabular : public RegulaTest {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto p = tmp() / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

TEST_F(Tabular, CsvWithAndWithoutHeader) {
  const auto t = core::read_csv(write("a.csv", "x, y\n1, 2\n\n3,4.5\n"));
  EXPECT_EQ(t.columns, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(torch::equal(t.values, torch::tensor({1.0, 2.0, 3.0, 4.5}, torch::kDouble).reshape({2, 2})));
  EXPECT_EQ(t.column("y"), 1);
  EXPECT_THROW(t.column("z"), DataError);
  const auto u = core::read_csv(write("b.csv", "1e-3,2\n"));
  EXPECT_EQ(u.columns, (std::vector<std::string>{"c0", "c1"}));
  EXPECT_DOUBLE_EQ(u.values[0][0].item<double>(), 1e-3);
}

TEST_F(Tabular, CsvErrorsNameTheLine) {
  try {
    core::read_csv(write("r.csv", "a,b\n1,2\n3\n"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("r.csv:3"), std::string::npos) << e.what();
  }
  try {
    core::read_csv(write("n.csv", "a,b\n1,2\n3,abc\n"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'abc'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(core::read_csv(write("e.csv", "a,b\n")), DataError);
  EXPECT_THROW(core::read_csv(tmp() / "missing.csv"), DataError);
}

TEST_F(Tabular, NpyRoundTripAndTruncation) {
  const auto a = torch::randn({3, 5}, torch::kDouble);
  core::write_npy(tmp() / "a.npy", a);
  EXPECT_TRUE(torch::equal(core::read_npy(tmp() / "a.npy"), a));
  EXPECT_TRUE(torch::equal(core::read_array(tmp() / "a.npy"), a));
  const auto v = torch::arange(4, torch::kDouble);
  core::write_npy(tmp() / "v.npy", v);
  EXPECT_EQ(core::read_npy(tmp() / "v.npy").sizes(), (torch::IntArrayRef{4}));
  std::ifstream in(tmp() / "a.npy", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const auto cut = write("cut.npy", bytes.substr(0, bytes.size() - 8));
  try {
    core::read_npy(cut);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  EXPECT_THROW(core::read_npy(write("foreign.npy", "hello world, not numpy")), DataError);
  EXPECT_THROW(core::read_array(write("x.bin", "1")), DataError);
}

// Files written by NumPy itself (float32, Fortran order) read correctly.
TEST_F(Tabular, NpyFromNumpyFortranFloat32) {
  // np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3))
  std::string header = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size());
  bytes += '\0';
  bytes += header;
  const float column_major[6] = {0, 3, 1, 4, 2, 5};
  bytes.append(reinterpret_cast<const char*>(column_major), sizeof column_major);
  const auto a = core::read_npy(write("f.npy", bytes));
  EXPECT_TRUE(torch::equal(a, torch::arange(6, torch::kDouble).reshape({2, 3})));
}

// Expects `read` to throw a DataError whose message holds every one of `parts`.
template <class Read>
void expect_data_error(Read read, const std::vector<std::string>& parts) {
  try {
    read();
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a DataError: " << e.what();
  }
}

// A version-1 .npy file with this header dictionary and `data_bytes` zero bytes of data.
std::string npy_bytes(const std::string& dict, std::size_t data_bytes) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  return bytes + header + std::string(data_bytes, '\0');
}

TEST_F(Tabular, CsvDuplicateColumnNames) {
  expect_data_error([&] { core::read_csv(write("d.csv", "x,y,x\n1,2,3\n")); },
                    {"d.csv:1", "column 'x' twice", "rename"});
}

TEST_F(Tabular, CsvNonFiniteValues) {
  for (const std::string cell : {"inf", "nan", "1e999", "-inf", "NaN"}) {
    expect_data_error([&] { core::read_csv(write("f.csv", "a,b\n1,2\n3," + cell + "\n")); },
                      {"f.csv:3", "column 'b'", "'" + cell + "'", "non-finite value"});
  }
  // Without a header, too (an all-numeric first row is data).
  expect_data_error([&] { core::read_csv(write("g.csv", "nan,1\n")); }, {"g.csv:1", "column 'c0'", "non-finite"});
}

TEST_F(Tabular, CsvByteOrderMarkIsIgnored) {
  const auto t = core::read_csv(write("bom.csv", "\xEF\xBB\xBFx,y\n1,2\n"));
  EXPECT_EQ(t.columns, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t.column("x"), 0);
  const auto u = core::read_csv(write("bom2.csv", "\xEF\xBB\xBF" "1,2\n3,4\n"));
  EXPECT_EQ(u.columns, (std::vector<std::string>{"c0", "c1"}));
  EXPECT_TRUE(torch::equal(u.values, torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble).reshape({2, 2})));
}

TEST_F(Tabular, CsvWithoutDataRows) {
  expect_data_error([&] { core::read_csv(write("empty.csv", "")); }, {"empty.csv", "no data rows", "empty"});
  expect_data_error([&] { core::read_csv(write("blank.csv", "\n \n")); }, {"no data rows", "empty"});
  expect_data_error([&] { core::read_csv(write("bom.csv", "\xEF\xBB\xBF")); }, {"no data rows", "empty"});
  expect_data_error([&] { core::read_csv(write("head.csv", "a,b\n\n")); },
                    {"head.csv", "no data rows", "only a header"});
}

TEST_F(Tabular, NpyBadDimensions) {
  const auto f8 = [](const std::string& shape) {
    return "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  expect_data_error([&] { core::read_npy(write("n.npy", npy_bytes(f8("(-3, 2)"), 48))); },
                    {"n.npy", "negative dimension -3", "(-3, 2)"});
  expect_data_error([&] { core::read_npy(write("t.npy", npy_bytes(f8("(text,)"), 48))); },
                    {"t.npy", "non-integer dimension 'text'"});
  expect_data_error([&] { core::read_npy(write("h.npy", npy_bytes(f8("(2.5,)"), 48))); },
                    {"non-integer dimension '2.5'"});
  // The element count 2^32 * 2^32 * 4 overflows int64 (and wraps to 0 without a check).
  expect_data_error([&] { core::read_npy(write("o.npy", npy_bytes(f8("(4294967296, 4294967296, 4)"), 8))); },
                    {"o.npy", "overflows int64"});
  expect_data_error([&] { core::read_npy(write("p.npy", npy_bytes(f8("(99999999999999999999,)"), 8))); },
                    {"overflows int64"});
  // 2^61 elements fit in int64, but their 2^64 bytes of float64 do not.
  expect_data_error([&] { core::read_npy(write("q.npy", npy_bytes(f8("(2305843009213693952,)"), 8))); },
                    {"overflows int64"});
}

TEST_F(Tabular, NpyShapeLargerThanFile) {
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000000,), }";
  expect_data_error([&] { core::read_npy(write("x.npy", npy_bytes(dict, 96))); },
                    {"'" + (tmp() / "x.npy").string() + "' declares shape (10000000000000000,) = 80000000000000000 bytes "
                     "of float64 but the file holds 96 bytes after its header: the file is truncated"});
  const std::string small = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
  expect_data_error([&] { core::read_npy(write("y.npy", npy_bytes(small, 20))); },
                    {"(2, 3) = 24 bytes of int32 but the file holds 20 bytes"});
  EXPECT_EQ(core::read_npy(write("z.npy", npy_bytes(small, 24))).sizes(), (torch::IntArrayRef{2, 3}));
}

TEST_F(Tabular, NpyHeaderLengthBeyondFile) {
  // 20 bytes declaring a v2 header of 2^32 - 1 bytes: refused before a 4 GB allocation.
  std::string v2("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12);
  v2 += "{'descr'";
  expect_data_error([&] { core::read_npy(write("big.npy", v2)); },
                    {"big.npy", "declares a 4294967295-byte header but the file holds only 20 bytes", "truncated"});
  std::string v3("\x93NUMPY\x03\x00\x00\x01\x00\x00", 12);  // 256-byte header
  expect_data_error([&] { core::read_npy(write("v3.npy", v3 + "{}")); }, {"256-byte header", "only 14 bytes"});
  std::string v1("\x93NUMPY\x01\x00\xff\x00", 10);
  expect_data_error([&] { core::read_npy(write("v1.npy", v1)); }, {"255-byte header", "only 10 bytes"});
  expect_data_error([&] { core::read_npy(write("short.npy", std::string("\x93NUMPY\x02\x00\x01", 9))); },
                    {"no header length"});
}

TEST_F(Tabular, NpyBadMagicVersionAndDtype) {
  expect_data_error([&] { core::read_npy(write("m.npy", "PK\x03\x04 zip, not npy")); },
                    {"m.npy", "bad magic", "numpy.save"});
  expect_data_error([&] { core::read_npy(write("s.npy", "\x93NU")); }, {"bad magic"});
  expect_data_error([&] { core::read_npy(write("v.npy", std::string("\x93NUMPY\x09\x00\x10\x00", 10))); },
                    {"v.npy", "format version 9", "1 to 3"});
  const auto be = npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16);
  expect_data_error([&] { core::read_npy(write("be.npy", be)); }, {"be.npy", "dtype '>f8'", "astype('<f8')"});
  const auto c16 = npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16);
  expect_data_error([&] { core::read_npy(write("c.npy", c16)); }, {"dtype '<c16'", "supported"});
  const auto no_shape = npy_bytes("{'descr': '<f8', 'fortran_order': False, }", 16);
  expect_data_error([&] { core::read_npy(write("ns.npy", no_shape)); }, {"ns.npy", "no 'shape'"});
  const auto no_paren = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': 3, }", 16);
  expect_data_error([&] { core::read_npy(write("np.npy", no_paren)); }, {"malformed 'shape'"});
  const auto no_quote = npy_bytes("{'descr': <f8, 'fortran_order': False, 'shape': (2,), }", 16);
  expect_data_error([&] { core::read_npy(write("nq.npy", no_quote)); }, {"nq.npy", "malformed 'descr'"});
}
