// runtime/policy_compile: sources, host resolution, config checks and patches,
// on a temporary directory tree.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/runtime/policy_compile.hpp"
#include "mxc/spec/config.hpp"

namespace {

namespace fs = std::filesystem;
using mxc::runtime::check_claims;
using mxc::runtime::compile_policy;
using mxc::runtime::CompiledPolicy;
using mxc::runtime::PolicySources;
using nlohmann::json;

// A host tree: <root>/home/.ssh, <root>/home/.aws missing, <root>/ws/{src,build}, ...
struct Tree {
  fs::path root;
  Tree() {
    char tmpl[] = "/tmp/mxc-policy-test-XXXXXX";
    root = fs::path(::mkdtemp(tmpl));
    fs::create_directories(root / "home/.ssh");
    fs::create_directories(root / "ws/build");
    fs::create_directories(root / "ws/src/deep");
    std::ofstream(root / "ws/src/a.c") << "a";
    std::ofstream(root / "ws/src/b.c") << "b";
    std::ofstream(root / "ws/src/deep/c.c") << "c";
    std::ofstream(root / "ws/src/.hidden.c") << "h";
    fs::create_directory_symlink(root / "home/.ssh", root / "ws/keys");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  [[nodiscard]] std::string p(const std::string& rel) const { return (root / rel).string(); }
  [[nodiscard]] PolicySources sources() const { return PolicySources{"", p("ws"), p("home")}; }
};

json base_config() {
  return json{{"ociVersion", "1.2.0"},
              {"root", {{"path", "rootfs"}}},
              {"process", {{"cwd", "/"}, {"args", {"sh"}}, {"env", {"PATH=/bin", "no_proxy=x"}}}},
              {"linux", {{"namespaces", {{{"type", "pid"}}, {{"type", "mount"}}}}}}};
}

mxc::spec::Config config_with(const json& patch) {
  json d = base_config();
  d.merge_patch(patch);
  auto c = mxc::spec::parse_config(d.dump(), "/b/config.json");
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  return *c;
}

CompiledPolicy compile_ok(const json& patch, const PolicySources& s) {
  auto c = compile_policy(config_with(patch), s, "/b/config.json");
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  return *c;
}

std::string compile_error(const json& patch, const PolicySources& s) {
  auto c = compile_policy(config_with(patch), s, "/b/config.json");
  BOOST_TEST_REQUIRE(!c.ok(), "expected an error for " << patch.dump());
  return c.error().message;
}

std::string write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

const char* kDesignYaml = R"(schemaVersion: "1.0"
agent:
  name: repo-coding-agent
  identity: { provider: local }
isolation:
  tier: process
  backend: processcontainer
filesystem:
  allowRead:  ["${WORKSPACE}/**"]
  allowWrite: ["${WORKSPACE}/build/**"]
  denyRead:   ["${HOME}/.ssh/**", "${HOME}/.aws/**"]
network:
  default: deny
  allowDomains: ["api.github.com", "*.npmjs.org"]
desktop:
  shareClipboard: false
  shareInput: false
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_compile)

BOOST_AUTO_TEST_CASE(no_policy) {
  Tree t;
  const auto c = compile_ok(json::object(), t.sources());
  BOOST_TEST(!c.present);
  BOOST_TEST(c.plugin_json.dump() == "{}");
  BOOST_TEST(c.fields.empty());
  BOOST_TEST(c.proxy.is_null());
  BOOST_TEST(c.config_patch.dump() == "{}");
}

BOOST_AUTO_TEST_CASE(backend_only_section_is_not_a_policy) {
  Tree t;
  const auto c = compile_ok({{"mxc", {{"isolation", {{"backend", "bubblewrap"}}}}}}, t.sources());
  BOOST_TEST(!c.present);
  BOOST_TEST(*c.backend == "bubblewrap");
  BOOST_TEST(c.plugin_json.dump() == "{}");
}

BOOST_AUTO_TEST_CASE(design_example_from_policy_file) {
  Tree t;
  PolicySources s = t.sources();
  s.policy_file = write_file(t.root / "policy.yaml", kDesignYaml);
  const auto c = compile_ok(json::object(), s);
  BOOST_TEST(c.present);
  const std::string home = t.p("home");
  const std::string ws = t.p("ws");
  const json expected = {
      {"agent", {{"name", "repo-coding-agent"}, {"identity", {{"provider", "local"}}}}},
      {"filesystem",
       {{"allowRead", {ws}},
        {"allowWrite", {ws + "/build"}},
        {"denyRead", {home + "/.aws", home + "/.ssh"}}}},
      {"network", {{"default", "deny"}, {"proxy", {{"address", "127.0.0.1"}, {"port", 3128}}}}},
      {"desktop", {{"shareClipboard", false}, {"shareInput", false}}}};
  BOOST_TEST(c.plugin_json.dump() == expected.dump());
  const std::vector<std::string> fields = {"filesystem.allowRead", "filesystem.allowWrite",
                                           "filesystem.denyRead",  "network.default",
                                           "network.allowDomains", "desktop.display"};
  BOOST_TEST(c.fields == fields, boost::test_tools::per_element());
  BOOST_TEST(*c.backend == "processcontainer");
  BOOST_TEST(c.proxy.dump() == json({{"port", 3128},
                                     {"allowDomains", {"api.github.com", "*.npmjs.org"}},
                                     {"hosts", json::object()},
                                     {"allowCidrs", json::array()}})
                                   .dump());
  BOOST_TEST(c.agent["name"] == "repo-coding-agent");

  // The patch: a new network namespace and the proxy environment.
  const json patched = mxc::runtime::apply_config_patch(base_config(), c);
  BOOST_TEST(patched["linux"]["namespaces"].dump() ==
             R"([{"type":"pid"},{"type":"mount"},{"type":"network"}])");
  const json env = patched["process"]["env"];
  BOOST_TEST(env[0] == "PATH=/bin");
  BOOST_TEST(env[1] == "no_proxy=localhost,127.0.0.1,::1");  // replaced in place
  BOOST_TEST(env.dump().find("\"HTTPS_PROXY=http://127.0.0.1:3128\"") != std::string::npos);
  BOOST_TEST(env.dump().find("\"ALL_PROXY=socks5h://127.0.0.1:3128\"") != std::string::npos);
  BOOST_TEST(env.dump().find("\"https_proxy=http://127.0.0.1:3128\"") != std::string::npos);
  BOOST_TEST(env.size() == 9u);
}

BOOST_AUTO_TEST_CASE(globs_symlinks_and_missing_denies) {
  Tree t;
  const auto c = compile_ok(
      {{"mxc",
        {{"filesystem",
          {{"allowRead", {"${WORKSPACE}/src/*.c", "${WORKSPACE}/**/c.c", "${WORKSPACE}/keys"}},
           {"allowWrite", {"${WORKSPACE}/src/?.c"}},
           {"denyRead", {"${WORKSPACE}/keys/**", "${HOME}/nothing/here"}}}}}}},
      t.sources());
  const std::string ws = t.p("ws");
  const std::string home = t.p("home");
  // `*` matches dotfiles; the symlink resolves to its target.
  BOOST_TEST(c.plugin_json["filesystem"]["allowRead"].dump() ==
             json({home + "/.ssh", ws + "/src/.hidden.c", ws + "/src/a.c", ws + "/src/b.c",
                   ws + "/src/deep/c.c"})
                 .dump());
  BOOST_TEST(c.plugin_json["filesystem"]["allowWrite"].dump() ==
             json({ws + "/src/a.c", ws + "/src/b.c"}).dump());
  // Deny covers the link and its target; a missing path is kept as written.
  BOOST_TEST(c.plugin_json["filesystem"]["denyRead"].dump() ==
             json({home + "/.ssh", home + "/nothing/here", ws + "/keys"}).dump());
  // No network section: no namespace, no proxy.
  BOOST_TEST(c.config_patch.dump() == "{}");
  BOOST_TEST(c.proxy.is_null());
}

BOOST_AUTO_TEST_CASE(host_resolution_errors) {
  Tree t;
  auto fsys = [](const json& f) { return json{{"mxc", {{"filesystem", f}}}}; };
  BOOST_TEST(compile_error(fsys({{"allowRead", {"${WORKSPACE}/src/*.py"}}}), t.sources()) ==
             "/b/config.json: mxc.filesystem.allowRead[0]: \"${WORKSPACE}/src/*.py\" matches "
             "nothing");
  BOOST_TEST(compile_error(fsys({{"denyRead", {"${HOME}/.aws*"}}}), t.sources()) ==
             "/b/config.json: mxc.filesystem.denyRead[0]: \"${HOME}/.aws*\" matches nothing");
  BOOST_TEST(compile_error(fsys({{"allowWrite", {"/a", "${WORKSPACE}/out/**"}}}), t.sources())
                 .find("/b/config.json: mxc.filesystem.allowWrite[0]: \"/a\" does not exist") ==
             0u);
  BOOST_TEST(compile_error(fsys({{"allowWrite", {"${WORKSPACE}/out/**"}}}), t.sources()) ==
             "/b/config.json: mxc.filesystem.allowWrite[0]: \"" + t.p("ws/out") +
                 "\" does not exist");
}

BOOST_AUTO_TEST_CASE(sources_and_precedence) {
  Tree t;
  const std::string file = write_file(t.root / "p.json", R"({"limits": {"timeoutMs": 5}})");
  const json mxc = {{"mxc", {{"limits", {{"timeoutMs", 7}}}}}};
  PolicySources s = t.sources();
  s.policy_file = file;
  BOOST_TEST(compile_error(mxc, s) ==
             "/b/config.json: the policy is given twice, by the mxc section of /b/config.json and "
             "by --policy " +
                 file + "; give one");
  BOOST_TEST(compile_error({{"annotations", {{"mxc.policy", "limits: {timeoutMs: 1}"}}}}, s) ==
             "/b/config.json: the policy is given twice, by the annotation mxc.policy and by "
             "--policy " +
                 file + "; give one");
  BOOST_TEST(*compile_ok(json::object(), s).timeout_ms == 5u);
  // Inline annotation (YAML), errors name the annotation.
  const auto inl =
      compile_ok({{"annotations", {{"mxc.policy", "limits: {timeoutMs: 9}"}}}}, t.sources());
  BOOST_TEST(*inl.timeout_ms == 9u);
  BOOST_TEST(inl.fields == std::vector<std::string>{"desktop.display"},
             boost::test_tools::per_element());
  BOOST_TEST(
      compile_error({{"annotations", {{"mxc.policy", "limits: {timeoutMs: 0}"}}}}, t.sources()) ==
      "/b/config.json: annotations[\"mxc.policy\"]: limits.timeoutMs: must be greater than 0");
  // File annotation: absolute, read by the runtime, errors name the file.
  BOOST_TEST(*compile_ok({{"annotations", {{"mxc.policy.file", file}}}}, t.sources()).timeout_ms ==
             5u);
  BOOST_TEST(compile_error({{"annotations", {{"mxc.policy.file", "p.json"}}}}, t.sources()) ==
             "/b/config.json: annotations[\"mxc.policy.file\"]: must be an absolute path, got "
             "\"p.json\"");
  BOOST_TEST(compile_error({{"annotations", {{"mxc.policy.file", t.p("none.yaml")}}}},
                           t.sources()) == t.p("none.yaml") + ": No such file or directory");
  const std::string bad = write_file(t.root / "bad.yaml", "desktop:\n  shareClipboard: true\n");
  BOOST_TEST(compile_error({{"annotations", {{"mxc.policy.file", bad}}}}, t.sources()) ==
             bad + ": desktop.shareClipboard: needs the session tier (isolation.tier: session)");
}

BOOST_AUTO_TEST_CASE(workspace_sources) {
  Tree t;
  const json ws_policy = {{"mxc", {{"filesystem", {{"allowRead", {"${WORKSPACE}"}}}}}}};
  PolicySources s{"", "", t.p("home")};
  BOOST_TEST(compile_error(ws_policy, s) ==
             "/b/config.json: mxc.filesystem.allowRead[0]: ${WORKSPACE} is used but no workspace "
             "is given (--workspace DIR or the annotation mxc.workspace)");
  json with_annotation = ws_policy;
  with_annotation["annotations"] = {{"mxc.workspace", t.p("ws/src")}};
  BOOST_TEST(compile_ok(with_annotation, s).plugin_json["filesystem"]["allowRead"][0] ==
             t.p("ws/src"));
  // --workspace wins over the annotation.
  BOOST_TEST(compile_ok(with_annotation, t.sources()).plugin_json["filesystem"]["allowRead"][0] ==
             t.p("ws"));
  with_annotation["annotations"] = {{"mxc.workspace", "ws"}};
  BOOST_TEST(compile_error(with_annotation, s) ==
             "/b/config.json: annotations[\"mxc.workspace\"]: must be an absolute path");
  s.workspace = t.p("ws/src/a.c");
  BOOST_TEST(compile_error(ws_policy, s) ==
             "--workspace: \"" + t.p("ws/src/a.c") + "\" is not a directory");
}

BOOST_AUTO_TEST_CASE(config_checks) {
  Tree t;
  const json deny = {{"default", "deny"}};
  BOOST_TEST(compile_error(
                 {{"mxc", {{"network", deny}}},
                  {"linux", {{"namespaces", {{{"type", "network"}, {"path", "/proc/1/ns/net"}}}}}}},
                 t.sources()) ==
             "/b/config.json: linux.namespaces[0]: joins the network namespace \"/proc/1/ns/net\", "
             "but the policy's network.default deny needs a new one");
  // A new network namespace already there: nothing to add.
  const auto own = compile_ok(
      {{"mxc", {{"network", deny}}}, {"linux", {{"namespaces", {{{"type", "network"}}}}}}},
      t.sources());
  BOOST_TEST(own.config_patch.dump() == "{}");
  BOOST_TEST(own.plugin_json["network"].dump() == R"({"default":"deny"})");
  BOOST_TEST(
      compile_error({{"mxc", {{"network", {{"default", "allow"}, {"allowDomains", {"a.b"}}}}}}},
                    t.sources()) ==
      "/b/config.json: mxc.network.allowDomains: needs network.default: deny (with allow "
      "every domain is reachable)");
  BOOST_TEST(
      compile_error(
          {{"mxc", {{"network", {{"default", "deny"}, {"hosts", {{"a.b", {"127.0.0.1"}}}}}}}}},
          t.sources()) ==
      "/b/config.json: mxc.network.hosts: is used only by the proxy: needs "
      "network.allowDomains");
  BOOST_TEST(compile_error({{"mxc", {{"desktop", {{"shareInput", true}}}}}}, t.sources()) ==
             "/b/config.json: mxc.desktop.shareInput: needs the session tier (isolation.tier: "
             "session)");
  BOOST_TEST(compile_error({{"mxc", {{"desktop", {{"display", "allow"}}}}}}, t.sources()) ==
             "/b/config.json: mxc.desktop.display: allow needs the session tier (isolation.tier: "
             "session)");
  // What the conformance kit writes: display deny is what the process tier does anyway.
  const auto display = compile_ok({{"mxc", {{"desktop", {{"display", "deny"}}}}}}, t.sources());
  BOOST_TEST(display.fields == std::vector<std::string>{"desktop.display"},
             boost::test_tools::per_element());
  BOOST_TEST(compile_error({{"mxc", {{"isolation", {{"tier", "micro-vm"}}}}}}, t.sources()) ==
             "/b/config.json: mxc.isolation.tier: no backend of tier micro-vm is installed (only "
             "the process tier is)");
  BOOST_TEST(compile_error({{"mxc", {{"isolation", {{"backend", "bubblewrap"}}}}},
                            {"annotations", {{"mxc.isolation.backend", "processcontainer"}}}},
                           t.sources()) ==
             "/b/config.json: mxc.isolation.backend: \"bubblewrap\" differs from the annotation "
             "mxc.isolation.backend \"processcontainer\"");
  // default allow: nothing to enforce, nothing to patch.
  const auto allow = compile_ok({{"mxc", {{"network", {{"default", "allow"}}}}}}, t.sources());
  BOOST_TEST(allow.fields == std::vector<std::string>{"desktop.display"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(host_loopback) {
  Tree t;
  const json egress = {{"allow", {{{"to", {{{"cidr", "10.0.0.0/8"}}}}}}}};
  // Direct egress in the host's network namespace: its loopback is refused...
  const auto shared = compile_ok({{"mxc", {{"network", {{"egress", egress}}}}}}, t.sources());
  BOOST_TEST(shared.host_loopback_refused);
  // ...unless the policy allows it,
  const auto allowed = compile_ok(
      {{"mxc", {{"network", {{"egress", egress}, {"hostLoopback", "allow"}}}}}}, t.sources());
  BOOST_TEST(!allowed.host_loopback_refused);
  // and a container with its own network namespace keeps its own loopback.
  const auto own = compile_ok({{"mxc", {{"network", {{"egress", egress}}}}},
                               {"linux", {{"namespaces", {{{"type", "network"}}}}}}},
                              t.sources());
  BOOST_TEST(!own.host_loopback_refused);
  // Joining this process's own namespace by path is sharing it.
  const auto joined = compile_ok(
      {{"mxc", {{"network", {{"egress", egress}}}}},
       {"linux", {{"namespaces", {{{"type", "network"}, {"path", "/proc/self/ns/net"}}}}}}},
      t.sources());
  BOOST_TEST(joined.host_loopback_refused);
  BOOST_TEST(
      compile_error({{"mxc", {{"network", {{"default", "deny"}, {"hostLoopback", "allow"}}}}}},
                    t.sources()) ==
      "/b/config.json: mxc.network.hostLoopback: allow needs the host's network namespace "
      "(the container gets its own, whose loopback is not the host's: use network.egress "
      "without a network namespace)");
  // deny on the host's unfiltered network: an allow-all filter carries the refusal.
  const auto unfiltered = compile_ok(
      {{"mxc", {{"network", {{"default", "allow"}, {"hostLoopback", "deny"}}}}}}, t.sources());
  BOOST_TEST(unfiltered.host_loopback_refused);
  BOOST_TEST(unfiltered.plugin_json["network"]["egress"].dump() ==
             R"({"allow":[],"default":"allow","deny":[]})");
  BOOST_TEST(std::count(unfiltered.fields.begin(), unfiltered.fields.end(), "network.egress") == 1);
  // Without hostLoopback the host's network stays unfiltered.
  const auto open = compile_ok({{"mxc", {{"network", {{"default", "allow"}}}}}}, t.sources());
  BOOST_TEST(!open.host_loopback_refused);
  BOOST_TEST(!open.plugin_json["network"].contains("egress"));
  BOOST_TEST(compile_error({{"mxc", {{"network", {{"default", "deny"}, {"hostLoopback", "yes"}}}}}},
                           t.sources())
                 .find("mxc.network.hostLoopback") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(claims) {
  Tree t;
  PolicySources s = t.sources();
  s.policy_file = write_file(t.root / "policy.yaml", kDesignYaml);
  const auto c = compile_ok(json::object(), s);
  std::vector<std::string> all = c.fields;
  BOOST_TEST(check_claims(c, "processcontainer", all).ok());
  std::vector<std::string> some = {"filesystem.allowRead", "filesystem.allowWrite",
                                   "filesystem.denyRead", "network.default", "desktop.display"};
  auto st = check_claims(c, "bubblewrap", some);
  BOOST_TEST_REQUIRE(!st.ok());
  BOOST_TEST(st.error().message ==
             "policy field network.allowDomains cannot be enforced by backend bubblewrap");
  BOOST_TEST(check_claims(CompiledPolicy{}, "bubblewrap", {}).ok());
}

// The example bundle and its policy compile (and stay in DESIGN.md's shape).
BOOST_AUTO_TEST_CASE(coding_agent_example) {
  Tree t;
  const fs::path dir = fs::path(MXC_SOURCE_DIR) / "examples/coding-agent";
  auto config = mxc::spec::load_config(dir / "config.json");
  BOOST_TEST_REQUIRE(config.ok(), (config.ok() ? "" : config.error().message));
  PolicySources s = t.sources();
  s.policy_file = (dir / "policy.yaml").string();
  auto c = compile_policy(*config, s, (dir / "config.json").string());
  BOOST_TEST_REQUIRE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->plugin_json["filesystem"]["allowWrite"].dump() == json({t.p("ws/build")}).dump());
  BOOST_TEST(c->proxy["allowDomains"].size() == 2u);
  // The example has its own network namespace: only the proxy environment is added.
  BOOST_TEST(!c->config_patch.contains("addNamespaces"));
  BOOST_TEST(c->config_patch["setEnv"].size() == 8u);
}

BOOST_AUTO_TEST_SUITE_END()
