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
