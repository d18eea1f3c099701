// sys helpers: find_executable, rlimit_resource, /proc stat and liveness,
// and the file helpers.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "mxc/sys/file_util.hpp"
#include "mxc/sys/proc_info.hpp"
#include "mxc/sys/process_setup.hpp"

namespace fs = std::filesystem;

namespace {

// The error message of a failed result, "" for success (BOOST_TEST builds its
// message even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
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

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

void make_file(const fs::path& p, mode_t mode) {
  std::ofstream(p) << "#!/bin/sh\n";
  fs::permissions(p, static_cast<fs::perms>(mode));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(find_executable)

BOOST_AUTO_TEST_CASE(searches_the_path_of_the_env) {
  TempDir tmp;
  fs::create_directories(tmp.path / "bin1");
  fs::create_directories(tmp.path / "bin2");
  make_file(tmp.path / "bin1" / "noexec", 0644);
  make_file(tmp.path / "bin2" / "noexec", 0755);
  make_file(tmp.path / "bin2" / "prog", 0755);
  fs::create_directories(tmp.path / "bin1" / "adir");

  std::vector<std::string> env{
      "HOME=/root",
      "PATH=/nonexistent:" + (tmp.path / "bin1").string() + ":" + (tmp.path / "bin2").string(),
      "TERM=xterm"};
  auto prog = mxc::sys::find_executable("prog", env);
  BOOST_TEST_REQUIRE(prog.ok(), why(prog));
  BOOST_TEST(*prog == (tmp.path / "bin2" / "prog").string());

  // A non-executable file earlier in PATH is skipped.
  auto skipped = mxc::sys::find_executable("noexec", env);
  BOOST_TEST_REQUIRE(skipped.ok(), why(skipped));
  BOOST_TEST(*skipped == (tmp.path / "bin2" / "noexec").string());

  // A directory is not an executable.
  auto dir = mxc::sys::find_executable("adir", env);
  BOOST_TEST(!dir.ok());

  // Only the env's PATH is used, not the runtime's own.
  auto sh = mxc::sys::find_executable("sh", env);
  BOOST_TEST(!sh.ok());
}

BOOST_AUTO_TEST_CASE(default_path_without_path_in_env) {
  auto sh = mxc::sys::find_executable("sh", {"HOME=/"});
  BOOST_TEST_REQUIRE(sh.ok(), why(sh));
  BOOST_TEST(fs::path(*sh).filename() == "sh");
  BOOST_TEST(fs::path(*sh).is_absolute());
}

BOOST_AUTO_TEST_CASE(absolute_paths_are_used_as_they_are) {
  TempDir tmp;
  make_file(tmp.path / "tool", 0755);
  make_file(tmp.path / "data", 0644);
  std::vector<std::string> env{"PATH=/nonexistent"};
  auto tool = mxc::sys::find_executable((tmp.path / "tool").string(), env);
  BOOST_TEST_REQUIRE(tool.ok(), why(tool));
  BOOST_TEST(*tool == (tmp.path / "tool").string());

  auto data = mxc::sys::find_executable((tmp.path / "data").string(), env);
  BOOST_TEST_REQUIRE(!data.ok());
  BOOST_TEST(contains(data.error().message, (tmp.path / "data").string()), data.error().message);
}

BOOST_AUTO_TEST_CASE(missing_program_error_names_args0) {
  std::vector<std::string> env{"PATH=/nonexistent:/also-missing"};
  auto r = mxc::sys::find_executable("no-such-program-xyz", env);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, "no-such-program-xyz"), r.error().message);
  BOOST_TEST(contains(r.error().message, "args[0]"), r.error().message);

  auto abs = mxc::sys::find_executable("/no/such/abs-program", env);
  BOOST_TEST_REQUIRE(!abs.ok());
  BOOST_TEST(contains(abs.error().message, "/no/such/abs-program"), abs.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rlimits)

BOOST_AUTO_TEST_CASE(known_and_unknown_names) {
  struct Known {
    const char* name;
    int resource;
  };
  for (const auto& k : {Known{"RLIMIT_NOFILE", RLIMIT_NOFILE}, Known{"RLIMIT_CORE", RLIMIT_CORE},
                        Known{"RLIMIT_AS", RLIMIT_AS}, Known{"RLIMIT_NPROC", RLIMIT_NPROC},
                        Known{"RLIMIT_STACK", RLIMIT_STACK}, Known{"RLIMIT_RTTIME", RLIMIT_RTTIME},
                        Known{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}}) {
    auto r = mxc::sys::rlimit_resource(k.name);
    BOOST_TEST_REQUIRE(r.ok(), k.name);
    BOOST_TEST(*r == k.resource, k.name);
  }
  for (const std::string bad : {"RLIMIT_FOO", "NOFILE", "rlimit_nofile", ""}) {
    auto r = mxc::sys::rlimit_resource(bad);
    BOOST_TEST_REQUIRE(!r.ok(), "accepted \"" << bad << "\"");
    if (!bad.empty()) BOOST_TEST(contains(r.error().message, bad), r.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(proc_info)

BOOST_AUTO_TEST_CASE(stat_of_this_process) {
  auto st = mxc::sys::read_proc_stat(::getpid());
  BOOST_TEST_REQUIRE(st.has_value());
  BOOST_TEST(st->start_time != 0u);
  BOOST_TEST(st->state == 'R');
  BOOST_TEST(mxc::sys::process_alive(::getpid(), 0));
  BOOST_TEST(mxc::sys::process_alive(::getpid(), st->start_time));
  // A different start time means a different process that reused the pid.
  BOOST_TEST(!mxc::sys::process_alive(::getpid(), st->start_time + 1));
  BOOST_TEST(!mxc::sys::process_alive(0, 0));
  BOOST_TEST(!mxc::sys::process_alive(-1, 0));
}

BOOST_AUTO_TEST_CASE(start_time_is_field_22_even_with_odd_comm) {
  // comm with spaces and parentheses must not shift the fields.
  int ready[2];
  BOOST_TEST_REQUIRE(::pipe(ready) == 0);
  pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    std::ofstream("/proc/self/comm") << "a) b (c";
    (void)!::write(ready[1], "r", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c;
  BOOST_TEST_REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  auto child = mxc::sys::read_proc_stat(pid);
  auto self = mxc::sys::read_proc_stat(::getpid());
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  BOOST_TEST(name == "a) b (c");
  BOOST_TEST_REQUIRE(child.has_value());
  BOOST_TEST_REQUIRE(self.has_value());
  BOOST_TEST((child->state == 'S' || child->state == 'R'), child->state);
  // Forked after this process started, so not earlier; and ticks are plausible.
  BOOST_TEST(child->start_time >= self->start_time);
}

BOOST_AUTO_TEST_CASE(zombie_and_reaped_children_are_not_alive) {
  pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(0);
  // Wait until it is a zombie, without reaping it.
  siginfo_t info{};
  BOOST_TEST_REQUIRE(::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) == 0);
  auto zombie = mxc::sys::read_proc_stat(pid);
  BOOST_TEST_REQUIRE(zombie.has_value());
  BOOST_TEST(zombie->state == 'Z');
  BOOST_TEST(!mxc::sys::process_alive(pid, 0));
  BOOST_TEST(!mxc::sys::process_alive(pid, zombie->start_time));

  BOOST_TEST_REQUIRE(::waitpid(pid, nullptr, 0) == pid);
  BOOST_TEST(!mxc::sys::read_proc_stat(pid).has_value());
  BOOST_TEST(!mxc::sys::process_alive(pid, 0));
  BOOST_TEST(!mxc::sys::process_alive(pid, zombie->start_time));
}

BOOST_AUTO_TEST_CASE(running_child_is_alive_with_its_own_start_time) {
  pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  auto st = mxc::sys::read_proc_stat(pid);
  bool alive = st.has_value() && mxc::sys::process_alive(pid, st->start_time);
  bool wrong = st.has_value() && mxc::sys::process_alive(pid, st->start_time + 100);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  BOOST_TEST_REQUIRE(st.has_value());
  BOOST_TEST(alive);
  BOOST_TEST(!wrong);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(file_util)

BOOST_AUTO_TEST_CASE(write_file_atomic_and_read_file_round_trip) {
  TempDir tmp;
  std::string path = (tmp.path / "f.json").string();
  std::string content = "line one\nline two\n";
  content += std::string(100000, 'x');  // more than one read(2) buffer
  content.push_back('\0');
  content += "after nul";
  BOOST_TEST_REQUIRE(mxc::sys::write_file_atomic(path, content).ok());
  auto back = mxc::sys::read_file(path);
  BOOST_TEST_REQUIRE(back.ok(), why(back));
  BOOST_TEST(*back == content);

  struct stat sb {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &sb) == 0);
  BOOST_TEST((sb.st_mode & 07777) == 0600u);

  // Replacing with shorter content leaves nothing of the old.
  BOOST_TEST_REQUIRE(mxc::sys::write_file_atomic(path, "short", 0644).ok());
  back = mxc::sys::read_file(path);
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(*back == "short");

  BOOST_TEST_REQUIRE(mxc::sys::write_file_atomic(path, "").ok());
  back = mxc::sys::read_file(path);
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(back->empty());

  // No temporary file is left beside it.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.path)) names.push_back(e.path().filename());
  BOOST_TEST(names == std::vector<std::string>{"f.json"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(errors_name_the_path) {
  TempDir tmp;
  std::string missing = (tmp.path / "missing" / "file").string();
  auto r = mxc::sys::read_file(missing);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(contains(r.error().message, missing), r.error().message);
  BOOST_TEST(r.error().sys_errno == ENOENT);

  auto w = mxc::sys::write_file_atomic(missing, "x");
  BOOST_TEST_REQUIRE(!w.ok());
  BOOST_TEST(contains(w.error().message, missing), w.error().message);
  BOOST_TEST(w.error().sys_errno == ENOENT);

  auto plain = mxc::sys::write_file(missing, "x");
  BOOST_TEST_REQUIRE(!plain.ok());
  BOOST_TEST(contains(plain.error().message, missing), plain.error().message);

  // Reading a directory fails and names it.
  auto dir = mxc::sys::read_file(tmp.path.string());
  BOOST_TEST_REQUIRE(!dir.ok());
  BOOST_TEST(contains(dir.error().message, tmp.path.string()), dir.error().message);
}

BOOST_AUTO_TEST_CASE(write_file_overwrites_in_one_write) {
  TempDir tmp;
  std::string path = (tmp.path / "existing").string();
  std::ofstream(path) << "old content that is long";
  BOOST_TEST_REQUIRE(mxc::sys::write_file(path, "new").ok());
  auto back = mxc::sys::read_file(path);
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(*back == "new");
}

BOOST_AUTO_TEST_SUITE_END()
