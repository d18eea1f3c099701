// Landlock: each ruleset is enforced in a forked child (Landlock cannot be
// undone), which checks the errno of raw syscalls on a temporary tree and
// reports the first unmet expectation as its exit status.
#define BOOST_TEST_MODULE mxc_runtime_landlock_tests
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/sys/landlock.hpp"
#include "mxc/sys/unique_fd.hpp"

namespace fs = std::filesystem;
namespace ll = mxc::sys::landlock;
using mxc::sys::LandlockRuleset;
using mxc::sys::UniqueFd;

namespace {

// A fresh tree: ro/f, ro/sub/g, rw/f, other/f, each file holding "x".
struct Tree {
  fs::path root;
  Tree() {
    char tmpl[] = "/tmp/mxc-landlock-XXXXXX";
    root = ::mkdtemp(tmpl);
    for (const char* d : {"ro/sub", "rw", "other"}) fs::create_directories(root / d);
    for (const char* f : {"ro/f", "ro/sub/g", "rw/f", "other/f"}) std::ofstream(root / f) << "x";
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  [[nodiscard]] std::string operator/(const char* rel) const { return (root / rel).string(); }
};

// Runs `body` in a child; its return value (0 = every expectation held, else
// the number of the failed one) becomes the exit status.
int in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

// errno of open(path, flags), 0 on success.
int open_errno(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

uint64_t all_fs() {
  return mxc::sys::landlock_fs_access_for_abi(mxc::sys::landlock_abi());
}

LandlockRuleset must_create(uint64_t fs_access, uint64_t scoped = 0) {
  auto r = LandlockRuleset::create(fs_access, scoped);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    ::_exit(100);
  }
  return std::move(*r);
}

void must(const mxc::Status& st, int code) {
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    ::_exit(code);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(abi_and_rights) {
  int abi = mxc::sys::landlock_abi();
  BOOST_TEST_REQUIRE(abi >= 6, "these tests need Landlock ABI >= 6, the kernel has " << abi);
  BOOST_TEST(mxc::sys::landlock_fs_access_for_abi(1) == 0x1fffULL);
  BOOST_TEST(mxc::sys::landlock_fs_access_for_abi(2) == 0x3fffULL);
  BOOST_TEST(mxc::sys::landlock_fs_access_for_abi(4) == 0x7fffULL);
  BOOST_TEST(mxc::sys::landlock_fs_access_for_abi(7) == 0xffffULL);
  BOOST_TEST(mxc::sys::landlock_scopes_for_abi(5) == 0ULL);
  BOOST_TEST(mxc::sys::landlock_scopes_for_abi(6) == 3ULL);
}

BOOST_AUTO_TEST_CASE(create_refuses_unknown_rights) {
  auto r = LandlockRuleset::create(1ULL << 40, 0);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("lacks the filesystem rights 0x10000000000") !=
             std::string::npos);
  auto s = LandlockRuleset::create(0, 1ULL << 7);
  BOOST_TEST_REQUIRE(!s.ok());
  BOOST_TEST(s.error().message.find("lacks the scopes 0x80") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(read_only_read_write_and_unlisted) {
  Tree t;
  int rc = in_child([&] {
    auto rs = must_create(all_fs());
    must(rs.allow(t / "ro", ll::kReadAccess), 101);
    must(rs.allow(t / "rw", all_fs()), 102);
    must(rs.allow(t / "rw/f", all_fs()), 103);  // a file: reduced to the file rights
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    must(rs.restrict_self(), 105);
    if (open_errno(t / "ro/f", O_RDONLY) != 0) return 1;
    if (open_errno(t / "ro/sub/g", O_RDONLY) != 0) return 2;  // beneath
    if (open_errno(t / "ro/f", O_WRONLY) != EACCES) return 3;
    if (open_errno(t / "ro/new", O_WRONLY | O_CREAT) != EACCES) return 4;
    if (open_errno(t / "rw/f", O_RDWR) != 0) return 5;
    if (open_errno(t / "rw/new", O_WRONLY | O_CREAT) != 0) return 6;
    if (open_errno(t / "other/f", O_RDONLY) != EACCES) return 7;
    if (open_errno(t / "other", O_RDONLY | O_DIRECTORY) != EACCES) return 8;
    // `..` and symlinks resolve to the path they reach, which is what is checked.
    if (open_errno(t / "ro/../other/f", O_RDONLY) != EACCES) return 9;
    if (::symlink((t / "other/f").c_str(), (t / "rw/link").c_str()) != 0) return 10;
    if (open_errno(t / "rw/link", O_RDONLY) != EACCES) return 11;
    // /proc/self/root leads to the same path.
    if (open_errno("/proc/self/root" + (t / "other/f"), O_RDONLY) != EACCES) return 12;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(union_of_ancestors_write_inside_read_only) {
  Tree t;
  int rc = in_child([&] {
    auto rs = must_create(all_fs());
    must(rs.allow(t / "ro", ll::kReadAccess), 101);
    must(rs.allow(t / "ro/sub", all_fs()), 102);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    must(rs.restrict_self(), 105);
    if (open_errno(t / "ro/sub/g", O_WRONLY | O_TRUNC) != 0) return 1;
    if (open_errno(t / "ro/f", O_WRONLY) != EACCES) return 2;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(hard_link_cannot_gain_rights) {
  Tree t;
  int rc = in_child([&] {
    auto rs = must_create(all_fs());
    must(rs.allow(t / "ro", ll::kReadAccess), 101);
    must(rs.allow(t / "rw", all_fs()), 102);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    must(rs.restrict_self(), 105);
    // A link of a read-only file into a writable directory would make it writable.
    if (::link((t / "ro/f").c_str(), (t / "rw/l").c_str()) == 0 || errno != EXDEV) return 1;
    // Moving it out needs a removal right on the read-only directory.
    if (::rename((t / "ro/f").c_str(), (t / "rw/m").c_str()) == 0) return 2;
    if (errno != EACCES) return 10 + errno;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(restricted_task_cannot_mount_or_unmount) {
  Tree t;
  int rc = in_child([&] {
    if (::unshare(CLONE_NEWNS) != 0) return 106;
    if (::mount("", "/", "", MS_PRIVATE | MS_REC, nullptr) != 0) return 107;
    if (::mount("tmpfs", (t / "rw").c_str(), "tmpfs", 0, nullptr) != 0) return 108;
    auto rs = must_create(all_fs());
    must(rs.allow("/", all_fs()), 101);
    must(rs.restrict_self(), 105);  // no no_new_privs: CAP_SYS_ADMIN is held (root)
    if (::mount("tmpfs", (t / "other").c_str(), "tmpfs", 0, nullptr) == 0 || errno != EPERM)
      return 1;
    if (::umount2((t / "rw").c_str(), MNT_DETACH) == 0 || errno != EPERM) return 2;
    if (::mount((t / "ro").c_str(), (t / "other").c_str(), "", MS_BIND, nullptr) == 0 ||
        errno != EPERM)
      return 3;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(restrict_needs_no_new_privs_or_cap_sys_admin) {
  int rc = in_child([&] {
    auto rs = must_create(all_fs());
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 106;  // drops every capability
    auto st = rs.restrict_self();
    if (st.ok() || st.error().sys_errno != EPERM) return 1;
    if (st.error().message.find("no_new_privs") == std::string::npos) return 2;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    if (!rs.restrict_self().ok()) return 3;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

namespace {

// A listening abstract unix socket named "\0<name>".
UniqueFd abstract_listener(const std::string& name, sockaddr_un* addr, socklen_t* len) {
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  *addr = {};
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path + 1, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(addr), *len) != 0) return {};
  if (::listen(s.get(), 4) != 0) return {};
  return s;
}

int connect_errno(const sockaddr_un& addr, socklen_t len) {
  UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(c.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) return errno;
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(abstract_unix_socket_scope) {
  sockaddr_un addr{};
  socklen_t len = 0;
  auto name = "/tmp/.X11-unix/mxc-test-" + std::to_string(::getpid());
  auto server = abstract_listener(name, &addr, &len);
  BOOST_TEST_REQUIRE(server.valid());
  // Control: without the scope, the same child connects.
  int ctl = in_child([&] {
    auto rs = must_create(all_fs());
    must(rs.allow("/", all_fs()), 101);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    must(rs.restrict_self(), 105);
    return connect_errno(addr, len) == 0 ? 0 : 1;
  });
  BOOST_TEST(ctl == 0);
  int rc = in_child([&] {
    auto rs = must_create(0, ll::kScopeAbstractUnixSocket);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    must(rs.restrict_self(), 105);
    if (connect_errno(addr, len) != EPERM) return 1;
    // Its own abstract sockets still work.
    sockaddr_un own{};
    socklen_t own_len = 0;
    auto mine = abstract_listener(name + "-own", &own, &own_len);
    if (!mine.valid()) return 2;
    if (connect_errno(own, own_len) != 0) return 3;
    return 0;
  });
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_CASE(signal_scope) {
  int rc = in_child([&] {
    auto rs = must_create(0, ll::kScopeSignal);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 104;
    must(rs.restrict_self(), 105);
    if (::kill(::getppid(), 0) == 0 || errno != EPERM) return 1;
    return ::kill(::getpid(), 0) == 0 ? 0 : 2;
  });
  BOOST_TEST(rc == 0);
}
