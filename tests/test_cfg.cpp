#include <doctest/doctest.h>


#include "mabdet/cfg.h"
#include "mabdet/error.h"
#include "test_util.h"

using namespace mabdet;
using mabdet::test::error_of;


TEST_CASE("cfg sections, comments, typed getters") {
  auto s = parse_cfg_text("# comment\n[net]\nbatch = 4 ; inline\nsteps=10, 20\n\n[convolutional]\nfilters=16\n", "a.cfg");
  REQUIRE(s.size() == 2);
  CHECK(s[0].type() == "net");
  CHECK(s[0].get_int("batch") == 4);
  CHECK(s[0].get_ints("steps", {}) == std::vector<int>{10, 20});
  CHECK(s[1].line() == 6);
  CHECK(s[1].get_int("filters", 1) == 16);
  CHECK(s[1].get_float("missing", 2.5f) == 2.5f);
}

TEST_CASE("cfg errors name file, line and key") {
  CHECK(error_of([] { parse_cfg_text("batch=1\n", "b.cfg"); }) == "b.cfg:1: key 'batch' before the first [section]");
  CHECK(error_of([] { parse_cfg_text("[net]\nbatch\n", "b.cfg"); }) == "b.cfg:2: expected key=value, got 'batch'");
  CHECK(error_of([] { parse_cfg_text("[net\n", "b.cfg"); }) == "b.cfg:1: malformed section header '[net'");
  CHECK(error_of([] { parse_cfg_text("[net]\na=1\na=2\n", "b.cfg"); }) == "b.cfg:3: key 'a' repeated (first at line 2)");
  auto s = parse_cfg_text("[net]\nbatch=two\nmomentum=x\nact=tanh\nflag=2\n", "c.cfg");
  CHECK(error_of([&] { s[0].get_int("batch", 1); }) == "c.cfg:2 [net] batch=two: expected an integer");
  CHECK(error_of([&] { s[0].get_float("momentum", 1); }) == "c.cfg:3 [net] momentum=x: expected a number");
  CHECK(error_of([&] { s[0].get_choice("act", "relu", {"relu", "linear"}); }) ==
        "c.cfg:4 [net] act=tanh: allowed values: relu | linear");
  CHECK(error_of([&] { s[0].get_bool("flag", false); }) == "c.cfg:5 [net] flag=2: expected 0 or 1");
  CHECK(error_of([&] { s[0].get_str("width"); }) == "c.cfg:1 [net]: missing required key 'width'");
}

TEST_CASE("cfg integers outside int's range are errors, not truncated") {
  auto s = parse_cfg_text("[net]\nbatch=99999999999\nsteps=10,2147483648\nmax=2147483647\nmin=-2147483648\n"
                          "low=-2147483649\nhuge=99999999999999999999999\nlist=-2147483648, 2147483647\n"
                          "[convolutional]\nfilters=8\n",
                          "r.cfg");
  const std::string range = "out of range for an integer (-2147483648..2147483647)";
  CHECK(error_of([&] { s[0].get_int("batch", 1); }) == "r.cfg:2 [net] batch=99999999999: " + range);
  CHECK(error_of([&] { s[0].get_int("batch"); }) == "r.cfg:2 [net] batch=99999999999: " + range);
  CHECK(error_of([&] { s[0].get_ints("steps", {}); }) == "r.cfg:3 [net] steps=10,2147483648: '2147483648' is " + range);
  CHECK(error_of([&] { s[0].get_int("low", 1); }) == "r.cfg:6 [net] low=-2147483649: " + range);
  CHECK(error_of([&] { s[0].get_int("huge", 1); }) == "r.cfg:7 [net] huge=99999999999999999999999: " + range);
  CHECK(error_of([&] { s[0].get_ints("huge", {}); }) ==
        "r.cfg:7 [net] huge=99999999999999999999999: '99999999999999999999999' is " + range);
  // The ends of the range themselves are fine.
  CHECK(s[0].get_int("max", 0) == 2147483647);
  CHECK(s[0].get_int("min", 0) == -2147483647 - 1);
  CHECK(s[0].get_ints("list", {}) == std::vector<int>{-2147483647 - 1, 2147483647});
  // A layer key inherited from [net] is checked too, and the message points at [net]'s line.
  CHECK(error_of([&] { Scope{s[1], &s[0]}.get_int("batch", 1); }) == "r.cfg:2 [net] batch=99999999999: " + range);
}

TEST_CASE("unused keys are rejected with the keys that were read") {
  auto s = parse_cfg_text("[convolutional]\nfilters=8\nsize=3\nfliters=4\n", "d.cfg");
  s[0].get_int("filters", 1);
  s[0].get_int("size", 1);
  s[0].get_int("stride", 1);
  CHECK(error_of([&] { s[0].check_unused(); }) ==
        "d.cfg:4 [convolutional] fliters=4: unknown or unused key; keys read here: filters, size, stride");
}

TEST_CASE("scope falls back to [net] for inheritable keys") {
  auto s = parse_cfg_text("[net]\nnorm=bn\n[convolutional]\n[convolutional]\nnorm=gn\n", "e.cfg");
  CHECK(Scope{s[1], &s[0]}.get_str("norm", "none") == "bn");
  CHECK(Scope{s[2], &s[0]}.get_str("norm", "none") == "gn");
  s[0].check_unused();  // read through the scope
}

TEST_CASE(".data files are key=value without sections") {
  CHECK(error_of([] { parse_kv("/nonexistent/x.data"); }).find("/nonexistent/x.data: cannot open") == 0);
}
