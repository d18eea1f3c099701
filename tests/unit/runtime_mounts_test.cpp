// sys::parse_mount_options and sys::open_in_root (which must never leave the
// container's root, whatever symlinks the image holds).
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "mxc/sys/mounts.hpp"

namespace fs = std::filesystem;

namespace {

// The error message of a failed result, "" for success (BOOST_TEST builds its
// message even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

using mxc::sys::MountOptions;
using mxc::sys::open_in_root;
using mxc::sys::parse_mount_options;
using mxc::sys::UniqueFd;

// MOUNT_ATTR_* (<linux/mount.h> clashes with <sys/mount.h>).
constexpr unsigned long long kAttrRdonly = 0x1;
constexpr unsigned long long kAttrNosuid = 0x2;
constexpr unsigned long long kAttrNoexec = 0x8;

MountOptions parsed(const std::vector<std::string>& options) {
  auto r = parse_mount_options(options);
  BOOST_TEST_REQUIRE(r.ok(), why(r));
  return *r;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/mxc-runtime-test-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

struct Identity {
  dev_t dev;
  ino_t ino;
  mode_t mode;
};

Identity identity_of_fd(int fd) {
  struct stat sb {};
  BOOST_TEST_REQUIRE(::fstat(fd, &sb) == 0);
  return {sb.st_dev, sb.st_ino, sb.st_mode};
}

Identity identity_of_path(const fs::path& p) {
  struct stat sb {};
  BOOST_TEST_REQUIRE(::stat(p.c_str(), &sb) == 0, "stat " << p);
  return {sb.st_dev, sb.st_ino, sb.st_mode};
}

bool same(const Identity& a, const Identity& b) {
  return a.dev == b.dev && a.ino == b.ino;
}

// A container root with hostile symlinks in it:
//   evil -> /tmp/<outside>   (absolute, dangling on purpose)
//   abs  -> /etc             (absolute, must mean root/etc)
//   rel  -> ../../..         (relative, climbs above the root)
struct HostileRoot {
  TempDir tmp;
  fs::path root;
  std::string outside;  // a name under the host's /tmp that must never appear
  UniqueFd root_fd;

  HostileRoot() {
    root = tmp.path / "root";
    fs::create_directory(root);
    outside = "mxc-runtime-test-outside-" + std::to_string(::getpid());
    fs::remove_all(fs::path("/tmp") / outside);
    fs::create_symlink("/tmp/" + outside, root / "evil");
    fs::create_symlink("/etc", root / "abs");
    fs::create_symlink("../../..", root / "rel");
    root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    BOOST_TEST_REQUIRE(root_fd.valid());
  }
  ~HostileRoot() {
    std::error_code ec;
    fs::remove_all(fs::path("/tmp") / outside, ec);
  }
  [[nodiscard]] bool escaped() const { return fs::exists(fs::path("/tmp") / outside); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mount_options)

BOOST_AUTO_TEST_CASE(flags_and_their_clearing_variants) {
  MountOptions o = parsed({"ro", "nosuid", "nodev", "noexec"});
  BOOST_TEST(o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  BOOST_TEST(o.clear == 0u);
  BOOST_TEST(o.data.empty());
  BOOST_TEST(!o.bind());

  o = parsed({"rw", "suid", "dev", "exec"});
  BOOST_TEST(o.flags == 0u);
  BOOST_TEST(o.clear == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));

  // The last word wins.
  o = parsed({"ro", "rw"});
  BOOST_TEST((o.flags & MS_RDONLY) == 0u);
  BOOST_TEST((o.clear & MS_RDONLY) != 0u);
  o = parsed({"rw", "ro"});
  BOOST_TEST((o.flags & MS_RDONLY) != 0u);
  BOOST_TEST((o.clear & MS_RDONLY) == 0u);

  o = parsed({"noatime", "nodiratime", "strictatime", "relatime", "defaults"});
  BOOST_TEST(o.flags == (MS_NOATIME | MS_NODIRATIME | MS_STRICTATIME | MS_RELATIME));
  BOOST_TEST(o.data.empty());
}

BOOST_AUTO_TEST_CASE(bind_and_rbind) {
  MountOptions o = parsed({"bind"});
  BOOST_TEST(o.bind());
  BOOST_TEST(o.flags == MS_BIND);

  o = parsed({"rbind", "ro"});
  BOOST_TEST(o.bind());
  BOOST_TEST(o.flags == (MS_BIND | MS_REC | MS_RDONLY));
  BOOST_TEST(o.data.empty());
}

BOOST_AUTO_TEST_CASE(propagation_is_a_list_in_order) {
  MountOptions o = parsed({"rprivate"});
  BOOST_TEST(o.propagation == std::vector<unsigned long>{MS_PRIVATE | MS_REC},
             boost::test_tools::per_element());
  BOOST_TEST(o.flags == 0u);

  o = parsed({"bind", "shared", "rslave", "runbindable", "private"});
  std::vector<unsigned long> want{MS_SHARED, MS_SLAVE | MS_REC, MS_UNBINDABLE | MS_REC, MS_PRIVATE};
  BOOST_TEST(o.propagation == want, boost::test_tools::per_element());
  BOOST_TEST(o.flags == MS_BIND);
  BOOST_TEST(o.data.empty());
}

BOOST_AUTO_TEST_CASE(recursive_attributes) {
  MountOptions o = parsed({"rro", "rnosuid", "rexec"});
  BOOST_TEST(o.attr_set == (kAttrRdonly | kAttrNosuid));
  BOOST_TEST(o.attr_clr == kAttrNoexec);
  // Recursive options are not the plain flags.
  BOOST_TEST(o.flags == 0u);
  BOOST_TEST(o.data.empty());

  o = parsed({"rrw"});
  BOOST_TEST(o.attr_clr == kAttrRdonly);
  BOOST_TEST(o.attr_set == 0u);
}

BOOST_AUTO_TEST_CASE(filesystem_options_pass_through_as_data_in_order) {
  MountOptions o = parsed({"nosuid", "size=64m", "noexec", "mode=755"});
  BOOST_TEST(o.data == "size=64m,mode=755");
  BOOST_TEST(o.flags == (MS_NOSUID | MS_NOEXEC));

  o = parsed({"mode=1777", "size=65536k", "uid=5", "gid=5"});
  BOOST_TEST(o.data == "mode=1777,size=65536k,uid=5,gid=5");

  o = parsed({});
  BOOST_TEST(o.data.empty());
  BOOST_TEST(o.flags == 0u);
  BOOST_TEST(o.propagation.empty());
}

BOOST_AUTO_TEST_CASE(idmap_is_refused_by_name) {
  for (const std::string opt : {"idmap", "ridmap"}) {
    auto r = parse_mount_options({"bind", opt});
    BOOST_TEST_REQUIRE(!r.ok(), opt << " was accepted");
    BOOST_TEST(r.error().message.find("\"" + opt + "\"") != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(open_in_root_resolution)

BOOST_AUTO_TEST_CASE(absolute_symlink_is_followed_inside_the_root_when_creating) {
  HostileRoot r;
  auto fd = open_in_root(r.root_fd.get(), "/evil/x", true, false);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  BOOST_TEST(!r.escaped(), "created /tmp/" << r.outside << " on the host");
  fs::path inside = r.root / "tmp" / r.outside / "x";
  BOOST_TEST_REQUIRE(fs::is_directory(inside), inside << " was not created");
  BOOST_TEST(same(identity_of_fd(fd->get()), identity_of_path(inside)));
  // The link itself is still the link it was.
  BOOST_TEST(fs::is_symlink(r.root / "evil"));
}

BOOST_AUTO_TEST_CASE(absolute_symlink_is_followed_inside_the_root_for_files) {
  HostileRoot r;
  auto fd = open_in_root(r.root_fd.get(), "/evil/f", true, true);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  BOOST_TEST(!r.escaped(), "created /tmp/" << r.outside << " on the host");
  fs::path inside = r.root / "tmp" / r.outside / "f";
  BOOST_TEST(fs::is_regular_file(inside));
  BOOST_TEST(same(identity_of_fd(fd->get()), identity_of_path(inside)));
}

BOOST_AUTO_TEST_CASE(relative_symlink_cannot_climb_out) {
  HostileRoot r;
  fs::create_directory(r.root / "etc");
  auto fd = open_in_root(r.root_fd.get(), "/rel/etc", false, false);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  Identity got = identity_of_fd(fd->get());
  BOOST_TEST(same(got, identity_of_path(r.root / "etc")));
  BOOST_TEST(!same(got, identity_of_path("/etc")), "/rel/etc reached the host's /etc");
}

BOOST_AUTO_TEST_CASE(absolute_symlink_to_a_host_directory_means_the_root_one) {
  HostileRoot r;
  // Missing inside the root: not found, even though the host has /etc/passwd.
  auto missing = open_in_root(r.root_fd.get(), "/abs/passwd", false, false);
  BOOST_TEST(!missing.ok());
  if (!missing.ok()) {
    BOOST_TEST(missing.error().message.find("/abs/passwd") != std::string::npos,
               missing.error().message);
  }

  auto fd = open_in_root(r.root_fd.get(), "/abs/passwd", true, true);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  BOOST_TEST(fs::is_regular_file(r.root / "etc" / "passwd"));
  BOOST_TEST(fs::file_size(r.root / "etc" / "passwd") == 0u);
  BOOST_TEST(!same(identity_of_fd(fd->get()), identity_of_path("/etc/passwd")));

  auto dir = open_in_root(r.root_fd.get(), "/abs", false, false);
  BOOST_TEST_REQUIRE(dir.ok(), why(dir));
  BOOST_TEST(same(identity_of_fd(dir->get()), identity_of_path(r.root / "etc")));
}

BOOST_AUTO_TEST_CASE(missing_directories_are_created) {
  HostileRoot r;
  auto fd = open_in_root(r.root_fd.get(), "/a/b/c/d", true, false);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  BOOST_TEST(fs::is_directory(r.root / "a" / "b" / "c" / "d"));
  BOOST_TEST(same(identity_of_fd(fd->get()), identity_of_path(r.root / "a/b/c/d")));

  // Without create, nothing is made.
  auto no = open_in_root(r.root_fd.get(), "/p/q", false, false);
  BOOST_TEST(!no.ok());
  BOOST_TEST(!fs::exists(r.root / "p"));
}

BOOST_AUTO_TEST_CASE(as_file_creates_a_regular_file_and_its_parents) {
  HostileRoot r;
  auto fd = open_in_root(r.root_fd.get(), "/dev/shm/file", true, true);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  BOOST_TEST(fs::is_directory(r.root / "dev" / "shm"));
  BOOST_TEST(fs::is_regular_file(r.root / "dev" / "shm" / "file"));
  BOOST_TEST(S_ISREG(identity_of_fd(fd->get()).mode));

  // An existing file is opened, not refused.
  auto again = open_in_root(r.root_fd.get(), "/dev/shm/file", true, true);
  BOOST_TEST_REQUIRE(again.ok(), why(again));
  BOOST_TEST(same(identity_of_fd(again->get()), identity_of_fd(fd->get())));
}

BOOST_AUTO_TEST_CASE(dot_dot_at_the_start_cannot_escape) {
  HostileRoot r;
  auto fd = open_in_root(r.root_fd.get(), "/../../../..", false, false);
  BOOST_TEST_REQUIRE(fd.ok(), why(fd));
  BOOST_TEST(same(identity_of_fd(fd->get()), identity_of_path(r.root)));

  std::string name = "mxc-escape-" + std::to_string(::getpid());
  auto made = open_in_root(r.root_fd.get(), "../../" + name, true, false);
  BOOST_TEST_REQUIRE(made.ok(), why(made));
  BOOST_TEST(fs::is_directory(r.root / name));
  BOOST_TEST(!fs::exists(r.tmp.path / name));
  BOOST_TEST(!fs::exists(fs::path("/") / name));
  BOOST_TEST(!fs::exists(fs::path("/tmp") / name));
  // Tidy up after a broken implementation.
  std::error_code ec;
  fs::remove(r.tmp.path.parent_path() / name, ec);
  fs::remove(fs::path("/") / name, ec);

  auto etc = open_in_root(r.root_fd.get(), "/../etc", true, false);
  BOOST_TEST_REQUIRE(etc.ok(), why(etc));
  BOOST_TEST(same(identity_of_fd(etc->get()), identity_of_path(r.root / "etc")));
}

BOOST_AUTO_TEST_SUITE_END()
