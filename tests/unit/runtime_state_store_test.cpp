// StateStore and ContainerDir: the per-container directories under --root,
// their record (an extended attribute, or state.json), and the flock that
// serialises commands on one container.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "mxc/runtime/state_store.hpp"

namespace fs = std::filesystem;

namespace {

// The error message of a failed result, "" for success (BOOST_TEST builds its
// message even when the check passes).
template <class R>
std::string why(const R& r) {
  return r.ok() ? std::string() : r.error().message;
}

using mxc::runtime::ContainerDir;
using mxc::runtime::ContainerRecord;
using mxc::runtime::StateStore;

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

mode_t mode_of(const fs::path& p) {
  struct stat sb {};
  BOOST_TEST_REQUIRE(::lstat(p.c_str(), &sb) == 0, "stat " << p);
  return sb.st_mode;
}

std::vector<std::string> dir_entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

ContainerRecord sample_record(const std::string& id) {
  ContainerRecord r;
  r.id = id;
  r.oci_version = "1.2.0";
  r.bundle = "/var/lib/bundles/" + id;
  r.rootfs = "/var/lib/bundles/" + id + "/rootfs";
  r.backend = "processcontainer";
  r.creating = false;
  r.pid = 123456;
  r.pid_start_time = (uint64_t{1} << 40) + 7;
  r.created = "2024-05-06T07:08:09.123456789Z";
  r.owner = "root";
  r.annotations = {{"org.example/key", "value with spaces"}, {"mxc.isolation.backend", "x\"y"}};
  return r;
}

// Polls until `pid` sleeps in flock(2), or gives up when `done_fd` becomes
// readable (the child got past the point where it should have blocked) or
// after about ten seconds. True when the child is blocked in flock.
bool wait_until_blocked_in_flock(pid_t pid, int done_fd) {
  std::string syscall_file = "/proc/" + std::to_string(pid) + "/syscall";
  for (int i = 0; i < 10000; ++i) {
    pollfd p{done_fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) return false;
    std::ifstream in(syscall_file);
    long nr = -1;
    if (in >> nr && nr == SYS_flock) return true;
    ::usleep(1000);
  }
  return false;
}

// Forks a child that waits for a byte on a pipe, then runs store.open(id) and
// reports 'O' (opened), 'M' (does not exist) or 'E' (other error).
struct OpenerChild {
  pid_t pid = -1;
  int go_fd = -1;    // parent writes here to let the child open
  int done_fd = -1;  // child's report

  OpenerChild(const StateStore& store, const std::string& id) {
    int go[2], done[2];
    BOOST_TEST_REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(::pipe2(done, O_CLOEXEC) == 0);
    pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(go[1]);
      ::close(done[0]);
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(3);
      auto dir = store.open(id);
      char report = dir.ok() ? 'O' : contains(dir.error().message, "does not exist") ? 'M' : 'E';
      ::_exit(::write(done[1], &report, 1) == 1 ? 0 : 4);
    }
    ::close(go[0]);
    ::close(done[1]);
    go_fd = go[1];
    done_fd = done[0];
  }
  void go() const { BOOST_TEST_REQUIRE(::write(go_fd, "g", 1) == 1); }
  char report() const {
    char c = 0;
    return ::read(done_fd, &c, 1) == 1 ? c : '?';
  }
  int wait_status() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  ~OpenerChild() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::close(go_fd);
    ::close(done_fd);
  }
  OpenerChild(const OpenerChild&) = delete;
  OpenerChild& operator=(const OpenerChild&) = delete;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(state_store)

BOOST_AUTO_TEST_CASE(create_makes_a_private_directory_and_the_missing_root) {
  TempDir tmp;
  fs::path root = tmp.path / "not" / "yet" / "root";
  StateStore store(root);
  auto dir = store.create("c1");
  BOOST_TEST_REQUIRE(dir.ok(), why(dir));
  BOOST_TEST(dir->path() == root / "c1");
  BOOST_TEST(S_ISDIR(mode_of(root)));
  BOOST_TEST((mode_of(root) & 07777) == 0700u);
  BOOST_TEST(S_ISDIR(mode_of(root / "c1")));
  BOOST_TEST((mode_of(root / "c1") & 07777) == 0700u);
}

BOOST_AUTO_TEST_CASE(create_refuses_invalid_ids_before_touching_the_disk) {
  TempDir tmp;
  StateStore store(tmp.path / "root");
  for (const std::string id : {"../escape", "a/b", "..", "", "a\nb"}) {
    auto dir = store.create(id);
    BOOST_TEST(!dir.ok(), "id accepted: " << id);
  }
  BOOST_TEST(!fs::exists(tmp.path / "escape"));
  BOOST_TEST(!fs::exists(tmp.path / "root" / "a"));
}

BOOST_AUTO_TEST_CASE(create_of_an_existing_id_fails) {
  TempDir tmp;
  StateStore store(tmp.path);
  {
    auto first = store.create("dup");
    BOOST_TEST_REQUIRE(first.ok(), why(first));
  }
  auto second = store.create("dup");
  BOOST_TEST_REQUIRE(!second.ok());
  BOOST_TEST(contains(second.error().message, "already exists"), second.error().message);
  BOOST_TEST(contains(second.error().message, "dup"), second.error().message);
  BOOST_TEST(fs::is_directory(tmp.path / "dup"));
}

BOOST_AUTO_TEST_CASE(open_of_a_missing_id_fails) {
  TempDir tmp;
  StateStore store(tmp.path);
  auto dir = store.open("ghost");
  BOOST_TEST_REQUIRE(!dir.ok());
  BOOST_TEST(contains(dir.error().message, "does not exist"), dir.error().message);
  BOOST_TEST(contains(dir.error().message, "ghost"), dir.error().message);
  BOOST_TEST(dir.error().message.find('\n') == std::string::npos);

  auto bad = store.open("../x");
  BOOST_TEST(!bad.ok());
}

BOOST_AUTO_TEST_CASE(record_round_trip_keeps_every_field) {
  TempDir tmp;
  StateStore store(tmp.path);
  ContainerRecord in = sample_record("rt");
  {
    auto dir = store.create("rt");
    BOOST_TEST_REQUIRE(dir.ok(), why(dir));
    auto st = dir->write(in);
    BOOST_TEST_REQUIRE(st.ok(), why(st));
  }
  auto dir = store.open("rt");
  BOOST_TEST_REQUIRE(dir.ok(), why(dir));
  auto out = dir->read();
  BOOST_TEST_REQUIRE(out.ok(), why(out));
  BOOST_TEST(out->id == in.id);
  BOOST_TEST(out->oci_version == in.oci_version);
  BOOST_TEST(out->bundle == in.bundle);
  BOOST_TEST(out->rootfs == in.rootfs);
  BOOST_TEST(out->backend == in.backend);
  BOOST_TEST(out->creating == in.creating);
  BOOST_TEST(out->pid == in.pid);
  BOOST_TEST(out->pid_start_time == in.pid_start_time);
  BOOST_TEST(out->created == in.created);
  BOOST_TEST(out->owner == in.owner);
  BOOST_TEST((out->annotations == in.annotations));

  // And the other value of the flag, so a constant cannot pass.
  in.creating = true;
  BOOST_TEST_REQUIRE(dir->write(in).ok());
  auto again = dir->read();
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(again->creating == true);
}

BOOST_AUTO_TEST_CASE(read_without_state_or_with_corrupt_state_fails_naming_the_file) {
  TempDir tmp;
  StateStore store(tmp.path);
  auto dir = store.create("c");
  BOOST_TEST_REQUIRE(dir.ok());
  auto none = dir->read();
  BOOST_TEST_REQUIRE(!none.ok());
  BOOST_TEST(contains(none.error().message, (tmp.path / "c" / "state.json").string()),
             none.error().message);

  std::ofstream(tmp.path / "c" / "state.json") << "{not json";
  auto corrupt = dir->read();
  BOOST_TEST_REQUIRE(!corrupt.ok());
  BOOST_TEST(contains(corrupt.error().message, (tmp.path / "c" / "state.json").string()),
             corrupt.error().message);
}

// The record's attribute on the directory, "" when there is none.
std::string state_xattr(const fs::path& dir) {
  char buf[8192];
  ssize_t n = ::getxattr(dir.c_str(), "user.mxc.state", buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

// Annotations enough to make a record too large for the attribute.
std::map<std::string, std::string> bulky_annotations() {
  return {{"org.example/big", std::string(5000, 'b')}};
}

BOOST_AUTO_TEST_CASE(a_small_record_is_an_attribute_and_no_file) {
  TempDir tmp;
  StateStore store(tmp.path);
  auto dir = store.create("small");
  BOOST_TEST_REQUIRE(dir.ok());
  fs::path path = tmp.path / "small";
  ContainerRecord r = sample_record("small");
  r.owner = "first";
  BOOST_TEST_REQUIRE(dir->write(r).ok());
  if (state_xattr(path).empty()) {
    // A filesystem without user xattrs (tmpfs before Linux 6.6): the file.
    BOOST_TEST(fs::exists(path / "state.json"));
    return;
  }
  BOOST_TEST(contains(state_xattr(path), "\"first\""), state_xattr(path));
  BOOST_TEST(dir_entries(path).empty(), "a file was created for a small record");

  // Larger than the attribute holds: state.json, and the attribute is gone
  // (readers look at it first, so it must not outlive the newer record).
  r.owner = "second";
  r.annotations = bulky_annotations();
  BOOST_TEST_REQUIRE(dir->write(r).ok());
  BOOST_TEST(state_xattr(path).empty(), "a stale attribute outlived a larger record");
  BOOST_TEST(fs::exists(path / "state.json"));
  auto big = dir->read();
  BOOST_TEST_REQUIRE(big.ok(), why(big));
  BOOST_TEST(big->owner == "second");
  BOOST_TEST((big->annotations == bulky_annotations()));

  // Small again: back in the attribute, and the file is gone.
  r.owner = "third";
  r.annotations.clear();
  BOOST_TEST_REQUIRE(dir->write(r).ok());
  BOOST_TEST(contains(state_xattr(path), "\"third\""), state_xattr(path));
  BOOST_TEST(!fs::exists(path / "state.json"), "a stale state.json outlived a smaller record");
  auto small = dir->read();
  BOOST_TEST_REQUIRE(small.ok(), why(small));
  BOOST_TEST(small->owner == "third");
}

BOOST_AUTO_TEST_CASE(the_config_copy_is_an_attribute_when_small_and_a_file_when_large) {
  TempDir tmp;
  StateStore store(tmp.path);
  auto dir = store.create("cfg");
  BOOST_TEST_REQUIRE(dir.ok());
  fs::path path = tmp.path / "cfg";
  std::string small = R"({"ociVersion":"1.2.0","marker":"small"})";
  std::string large = R"({"ociVersion":"1.2.0","marker":")" + std::string(6000, 'L') + R"("})";

  BOOST_TEST_REQUIRE(dir->write_config(small).ok());
  auto got = dir->read_config();
  BOOST_TEST_REQUIRE(got.ok(), why(got));
  BOOST_TEST(*got == small);
  char buf[4096];
  bool xattrs = ::getxattr(path.c_str(), "user.mxc.config", buf, sizeof buf) > 0;
  BOOST_TEST(xattrs == !fs::exists(path / "config.json"), "both or neither of attribute and file");

  BOOST_TEST_REQUIRE(dir->write_config(large).ok());
  got = dir->read_config();
  BOOST_TEST_REQUIRE(got.ok(), why(got));
  BOOST_TEST(*got == large, "a stale small copy won over the newer large one");
  BOOST_TEST(fs::exists(path / "config.json"));

  BOOST_TEST_REQUIRE(dir->write_config(small).ok());
  got = dir->read_config();
  BOOST_TEST_REQUIRE(got.ok(), why(got));
  BOOST_TEST(*got == small);
  if (xattrs) BOOST_TEST(!fs::exists(path / "config.json"), "a stale config.json was left");
}

BOOST_AUTO_TEST_CASE(state_file_is_replaced_atomically) {
  TempDir tmp;
  StateStore store(tmp.path);
  auto dir = store.create("atomic");
  BOOST_TEST_REQUIRE(dir.ok());
  fs::path state = tmp.path / "atomic" / "state.json";

  // Records too large for the attribute: the file.
  ContainerRecord first = sample_record("atomic");
  first.owner = "first";
  first.annotations = bulky_annotations();
  BOOST_TEST_REQUIRE(dir->write(first).ok());
  BOOST_TEST((mode_of(state) & 077) == 0u, "state.json is readable by others");

  // A reader that opened the old file keeps the old, complete content: the
  // new state is a new inode renamed over the name, not a rewrite in place.
  int old_fd = ::open(state.c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(old_fd >= 0);
  struct stat before {};
  BOOST_TEST_REQUIRE(::fstat(old_fd, &before) == 0);

  ContainerRecord second = sample_record("atomic");
  second.owner = "second";
  second.annotations = bulky_annotations();
  second.annotations["org.example/second"] = "yes";
  BOOST_TEST_REQUIRE(dir->write(second).ok());

  struct stat after {};
  BOOST_TEST_REQUIRE(::stat(state.c_str(), &after) == 0);
  BOOST_TEST(after.st_ino != before.st_ino, "state.json was rewritten in place");

  std::string old_content;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(old_fd, buf, sizeof buf)) > 0) old_content.append(buf, n);
  ::close(old_fd);
  BOOST_TEST(contains(old_content, "\"first\""), old_content);
  BOOST_TEST(!contains(old_content, "\"second\""), old_content);

  auto now = dir->read();
  BOOST_TEST_REQUIRE(now.ok());
  BOOST_TEST(now->owner == "second");
  BOOST_TEST(now->annotations.count("org.example/second") == 1u);

  // Nothing but the state file is left behind.
  std::vector<std::string> entries = dir_entries(tmp.path / "atomic");
  BOOST_TEST(entries == std::vector<std::string>{"state.json"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(list_is_sorted_and_skips_invalid_names) {
  TempDir tmp;
  StateStore missing(tmp.path / "missing");
  BOOST_TEST(missing.list().empty());

  StateStore store(tmp.path / "root");
  for (const std::string id : {"b", "a", "c-2", "C", "c"}) {
    auto dir = store.create(id);
    BOOST_TEST_REQUIRE(dir.ok(), why(dir));
  }
  fs::create_directory(tmp.path / "root" / "bad name");
  fs::create_directory(tmp.path / "root" / "ctl\x01");
  std::ofstream(tmp.path / "root" / "plainfile") << "x";

  std::vector<std::string> expected{"C", "a", "b", "c", "c-2"};
  std::vector<std::string> ids = store.list();
  BOOST_TEST(ids == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(remove_deletes_the_directory) {
  TempDir tmp;
  StateStore store(tmp.path);
  {
    auto dir = store.create("gone");
    BOOST_TEST_REQUIRE(dir.ok());
    BOOST_TEST_REQUIRE(dir->write(sample_record("gone")).ok());
  }
  auto dir = store.open("gone");
  BOOST_TEST_REQUIRE(dir.ok(), why(dir));
  auto st = dir->remove();
  BOOST_TEST_REQUIRE(st.ok(), why(st));
  BOOST_TEST(!fs::exists(tmp.path / "gone"));
  BOOST_TEST(store.list().empty());
  auto reopened = store.open("gone");
  BOOST_TEST_REQUIRE(!reopened.ok());
  BOOST_TEST(contains(reopened.error().message, "does not exist"));
  // The id is free again.
  BOOST_TEST(store.create("gone").ok());
}

BOOST_AUTO_TEST_CASE(concurrent_creates_in_processes_exactly_one_wins) {
  TempDir tmp;
  StateStore store(tmp.path / "root");
  constexpr int kRounds = 60;
  constexpr int kContenders = 4;
  for (int round = 0; round < kRounds; ++round) {
    std::string id = "race-" + std::to_string(round);
    int barrier[2];
    BOOST_TEST_REQUIRE(::pipe2(barrier, O_CLOEXEC) == 0);
    std::vector<pid_t> pids;
    for (int i = 0; i < kContenders; ++i) {
      pid_t pid = ::fork();
      BOOST_TEST_REQUIRE(pid >= 0);
      if (pid == 0) {
        ::close(barrier[1]);
        char c;
        (void)!::read(barrier[0], &c, 1);  // EOF when the parent closes its end
        auto dir = store.create(id);
        if (dir.ok()) ::_exit(0);
        ::_exit(contains(dir.error().message, "already exists") ? 1 : 2);
      }
      pids.push_back(pid);
    }
    ::close(barrier[0]);
    ::close(barrier[1]);  // go
    int winners = 0, losers = 0, others = 0;
    for (pid_t pid : pids) {
      int status = 0;
      BOOST_TEST_REQUIRE(::waitpid(pid, &status, 0) == pid);
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      (code == 0 ? winners : code == 1 ? losers : others)++;
    }
    BOOST_TEST(winners == 1, "round " << round);
    BOOST_TEST(losers == kContenders - 1, "round " << round);
    BOOST_TEST(others == 0, "round " << round);
    if (winners != 1 || others != 0) break;
  }
  BOOST_TEST(store.list().size() == static_cast<size_t>(kRounds));
}

BOOST_AUTO_TEST_CASE(concurrent_creates_in_threads_exactly_one_wins) {
  TempDir tmp;
  StateStore store(tmp.path);
  constexpr int kThreads = 8;
  for (int round = 0; round < 20; ++round) {
    std::string id = "t" + std::to_string(round);
    std::atomic<bool> start{false};
    std::atomic<int> winners{0}, losers{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        while (!start.load()) std::this_thread::yield();
        auto dir = store.create(id);
        if (dir.ok()) {
          ++winners;
        } else if (contains(dir.error().message, "already exists")) {
          ++losers;
        }
      });
    }
    start = true;
    for (auto& t : threads) t.join();
    BOOST_TEST(winners.load() == 1, "round " << round);
    BOOST_TEST(losers.load() == kThreads - 1, "round " << round);
  }
}

BOOST_AUTO_TEST_CASE(open_waits_for_the_lock_holder) {
  TempDir tmp;
  StateStore store(tmp.path);
  // The child is forked before the lock exists, so it holds no copy of it.
  OpenerChild child(store, "locked");
  std::optional<mxc::Result<ContainerDir>> held;
  held.emplace(store.create("locked"));
  BOOST_TEST_REQUIRE(held->ok(), why(*held));
  BOOST_TEST_REQUIRE((*held)->write(sample_record("locked")).ok());

  child.go();
  BOOST_TEST_REQUIRE(wait_until_blocked_in_flock(child.pid, child.done_fd),
                     "open() did not wait for the lock held by another ContainerDir");
  // Still held: the child must not have got through.
  pollfd p{child.done_fd, POLLIN, 0};
  BOOST_TEST(::poll(&p, 1, 0) == 0);

  held.reset();  // releases the lock
  BOOST_TEST(child.report() == 'O');
  int status = child.wait_status();
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

BOOST_AUTO_TEST_CASE(open_waiting_on_a_container_that_gets_removed_reports_it_missing) {
  TempDir tmp;
  StateStore store(tmp.path);
  OpenerChild child(store, "doomed");
  auto held = store.create("doomed");
  BOOST_TEST_REQUIRE(held.ok(), why(held));

  child.go();
  BOOST_TEST_REQUIRE(wait_until_blocked_in_flock(child.pid, child.done_fd));
  BOOST_TEST_REQUIRE(held->remove().ok());
  BOOST_TEST(child.report() == 'M');
  child.wait_status();
  BOOST_TEST(!fs::exists(tmp.path / "doomed"));
}

BOOST_AUTO_TEST_SUITE_END()
