// `mabdet detect` image arguments: files as given, folders expanded to their images (sorted, any
// extension case, not recursive), and each wrong argument named.
#include <doctest/doctest.h>

#include <filesystem>

#include "data_fixture.h"
#include "mabdet/detect/image_args.h"
#include "mabdet/error.h"

using namespace mabdet;
using namespace mabdet::detect;
using namespace mabdet::testing;
using Strings = std::vector<std::string>;

TEST_CASE("image args: files stay as given, folders expand to their sorted images") {
  TempDir t;
  std::filesystem::create_directories(t / "imgs/sub");
  for (const char* f : {"b.PNG", "a.jpg", "c.Jpeg", "d.bmp", "e.tga", "f.gif", "g.pnm", "h.ppm", "i.pgm",
                        "notes.txt", "noext", ".hidden.png", "sub/deep.png"})
    write_file(t / "imgs/" + f, "x");
  write_file(t / "lone.dat", "x");  // a file is kept whatever its name: decoding judges it
  const std::string dir = t / "imgs";
  const Strings want_dir = {dir + "/a.jpg", dir + "/b.PNG", dir + "/c.Jpeg", dir + "/d.bmp", dir + "/e.tga",
                            dir + "/f.gif", dir + "/g.pnm", dir + "/h.ppm", dir + "/i.pgm"};
  CHECK(expand_image_args({dir}) == want_dir);
  CHECK(expand_image_args({dir + "/"}) == want_dir);  // no doubled slash
  Strings mixed = expand_image_args({t / "lone.dat", dir, t / "imgs/sub/deep.png"});
  REQUIRE(mixed.size() == want_dir.size() + 2);
  CHECK(mixed.front() == t / "lone.dat");
  CHECK(mixed.back() == t / "imgs/sub/deep.png");
  CHECK(Strings(mixed.begin() + 1, mixed.end() - 1) == want_dir);
}

TEST_CASE("image args: empty list, missing path and folders without images fail naming them") {
  TempDir t;
  std::filesystem::create_directories(t / "empty");
  std::filesystem::create_directories(t / "text/sub");
  write_file(t / "text/readme.txt", "x");
  write_file(t / "text/sub/a.png", "x");  // not looked at: folders are not searched recursively
  write_file(t / "a.png", "x");
  CHECK_THROWS_WITH_AS(expand_image_args({}), "no images given (name image files or folders of images)", Error);
  CHECK_THROWS_WITH_AS(expand_image_args({t / "a.png", t / "missing.jpg"}),
                       (t / "missing.jpg" + ": no such image file or folder").c_str(), Error);
  const std::string exts = "(.jpg .jpeg .png .bmp .ppm .pgm .pnm .tga .gif)";
  CHECK_THROWS_WITH_AS(expand_image_args({t / "empty"}), (t / "empty" + ": folder holds no images " + exts).c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(expand_image_args({t / "text"}), (t / "text" + ": folder holds no images " + exts).c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(expand_image_args({""}), "an empty argument is not an image file or folder", Error);
}
