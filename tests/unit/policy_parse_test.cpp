// spec/policy: parse_policy, parse_policy_text (JSON and YAML with limits).
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/spec/policy.hpp"

namespace {

using mxc::spec::parse_policy;
using mxc::spec::parse_policy_text;
using mxc::spec::PathPattern;
using mxc::spec::Policy;
using mxc::spec::PolicyContext;
using nlohmann::json;

const PolicyContext kCtx{"/ws", "/home/u"};

// The error of parsing `j` as config.json's mxc section.
std::string mxc_error(const json& j, const PolicyContext& ctx = kCtx) {
  auto p = parse_policy(j, ctx, "config.json", "mxc");
  BOOST_TEST_REQUIRE(!p.ok(), "expected an error for " << j.dump());
  return p.error().message;
}

std::string text_error(const std::string& text) {
  auto p = parse_policy_text(text, kCtx, "p.yaml");
  BOOST_TEST_REQUIRE(!p.ok(), "expected an error for " << text.substr(0, 80));
  return p.error().message;
}

Policy text_ok(const std::string& text, const PolicyContext& ctx = kCtx) {
  auto p = parse_policy_text(text, ctx, "p.yaml");
  BOOST_TEST_REQUIRE(p.ok(), (p.ok() ? "" : p.error().message));
  return *p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_parse)

BOOST_AUTO_TEST_CASE(design_example_yaml) {
  const auto p = text_ok(R"(schemaVersion: "1.0"
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
  allowDomains: ["api.github.com", "*.NPMjs.org"]
desktop:
  shareClipboard: false
  shareInput: false
)");
  BOOST_TEST(*p.schemaVersion == "1.0");
  BOOST_TEST(p.agent->name == "repo-coding-agent");
  BOOST_TEST(p.agent->identity.dump() == R"({"provider":"local"})");
  BOOST_TEST(*p.isolation->backend == "processcontainer");
  BOOST_TEST(p.filesystem->allowRead.size() == 1u);
  BOOST_TEST(p.filesystem->allowRead[0].path == "/ws");
  BOOST_TEST((p.filesystem->allowRead[0].kind == PathPattern::Kind::tree));
  BOOST_TEST(p.filesystem->allowWrite[0].path == "/ws/build");
  BOOST_TEST(p.filesystem->denyRead[1].path == "/home/u/.aws");
  BOOST_TEST(p.network->default_ == "deny");
  BOOST_TEST(p.network->allowDomains[1] == "*.npmjs.org");
  BOOST_TEST(!p.desktop->shareClipboard);
  BOOST_TEST(p.restricts());
}

BOOST_AUTO_TEST_CASE(patterns_are_classified) {
  const auto p = text_ok(
      R"({"filesystem": {"allowRead": ["/a//b/", "/a/*.c", "/a/**/x", "/a/?/**", "/**"]}})");
  const auto& r = p.filesystem->allowRead;
  BOOST_TEST((r[0].kind == PathPattern::Kind::exact));
  BOOST_TEST(r[0].path == "/a/b");
  BOOST_TEST((r[1].kind == PathPattern::Kind::glob));
  BOOST_TEST((r[2].kind == PathPattern::Kind::glob));
  BOOST_TEST(r[2].path == "/a/**/x");
  BOOST_TEST((r[3].kind == PathPattern::Kind::glob));
  BOOST_TEST(r[3].path == "/a/?/**");
  BOOST_TEST((r[4].kind == PathPattern::Kind::tree));
  BOOST_TEST(r[4].path == "/");
}

BOOST_AUTO_TEST_CASE(backend_only_does_not_restrict) {
  auto p = parse_policy(json{{"isolation", {{"backend", "bubblewrap"}}}}, kCtx, "c", "mxc");
  BOOST_TEST_REQUIRE(p.ok());
  BOOST_TEST(!p->restricts());
  BOOST_TEST(p->isolation->tier == "process");
}

BOOST_AUTO_TEST_CASE(wrong_types) {
  BOOST_TEST(mxc_error(json::array()) == "config.json: mxc: must be an object, got array");
  BOOST_TEST(mxc_error({{"filesystem", {{"allowRead", "/x"}}}}) ==
             "config.json: mxc.filesystem.allowRead: must be an array of path patterns, got "
             "string \"/x\"");
  BOOST_TEST(mxc_error({{"filesystem", {{"allowRead", {"/x", 3}}}}}) ==
             "config.json: mxc.filesystem.allowRead[1]: must be a string, got number 3");
  BOOST_TEST(mxc_error({{"desktop", {{"shareInput", "yes"}}}}) ==
             "config.json: mxc.desktop.shareInput: must be a boolean, got string \"yes\"");
  BOOST_TEST(mxc_error({{"limits", {{"timeoutMs", -5}}}}) ==
             "config.json: mxc.limits.timeoutMs: -5 is out of range for a uint64 (0 to "
             "18446744073709551615)");
  BOOST_TEST(mxc_error({{"limits", {{"timeoutMs", 0}}}}) ==
             "config.json: mxc.limits.timeoutMs: must be greater than 0");
  BOOST_TEST(mxc_error({{"agent", {{"name", "a"}, {"identity", "local"}}}}) ==
             "config.json: mxc.agent.identity: must be an object, got string \"local\"");
  BOOST_TEST(mxc_error({{"agent", {{"name", "a"}, {"identity", json::object()}}}}) ==
             "config.json: mxc.agent.identity.provider: required field is missing");
  BOOST_TEST(mxc_error({{"agent", {{"name", "a"}, {"identity", {{"provider", 1}}}}}}) ==
             "config.json: mxc.agent.identity.provider: must be a string, got number 1");
  BOOST_TEST(mxc_error({{"isolation", {{"tier", "vm"}}}}) ==
             "config.json: mxc.isolation.tier: unknown isolation tier \"vm\"; expected one of "
             "process, session, micro-vm");
  BOOST_TEST(mxc_error({{"network", {{"default", "block"}}}}) ==
             "config.json: mxc.network.default: unknown network default \"block\"; expected one "
             "of allow, deny");
  BOOST_TEST(mxc_error({{"network", {{"allowDomains", {"a.b"}}}}}) ==
             "config.json: mxc.network.default: required field is missing");
  BOOST_TEST(mxc_error({{"schemaVersion", "2.0"}}) ==
             "config.json: mxc.schemaVersion: unsupported version \"2.0\"; expected 1.x");
}

BOOST_AUTO_TEST_CASE(unknown_fields) {
  BOOST_TEST(mxc_error({{"filesytem", json::object()}}) ==
             "config.json: mxc.filesytem: unknown field");
  BOOST_TEST(mxc_error({{"network", {{"default", "deny"}, {"allowHosts", json::array()}}}}) ==
             "config.json: mxc.network.allowHosts: unknown field");
  BOOST_TEST(mxc_error({{"agent", {{"name", "a"}, {"identity", {{"provider", "x"}}}, {"x", 1}}}}) ==
             "config.json: mxc.agent.x: unknown field");
  // identity is kept as given: extra members are the provider's business.
  BOOST_TEST(parse_policy(
                 json{{"agent", {{"name", "a"}, {"identity", {{"provider", "x"}, {"sub", "y"}}}}}},
                 kCtx, "c")
                 .ok());
}

BOOST_AUTO_TEST_CASE(bad_paths) {
  BOOST_TEST(mxc_error({{"filesystem", {{"allowRead", {"/a", "/b", "foo"}}}}}) ==
             "config.json: mxc.filesystem.allowRead[2]: must be an absolute path after "
             "expansion: \"foo\"");
  BOOST_TEST(mxc_error({{"filesystem", {{"denyRead", {"/a/../etc"}}}}}) ==
             "config.json: mxc.filesystem.denyRead[0]: must not contain a \"..\" component: "
             "\"/a/../etc\"");
  BOOST_TEST(mxc_error({{"filesystem", {{"allowWrite", {"/a/./b"}}}}}) ==
             "config.json: mxc.filesystem.allowWrite[0]: must not contain a \".\" component: "
             "\"/a/./b\"");
  BOOST_TEST(mxc_error({{"filesystem", {{"allowRead", {std::string("/a\0b", 4)}}}}}) ==
             "config.json: mxc.filesystem.allowRead[0]: contains a NUL byte");
  BOOST_TEST(mxc_error({{"filesystem", {{"allowRead", {"/a/b**"}}}}}) ==
             "config.json: mxc.filesystem.allowRead[0]: \"**\" must be a whole path component: "
             "\"/a/b**\"");
  BOOST_TEST(mxc_error({{"filesystem", {{"allowRead", {""}}}}}) ==
             "config.json: mxc.filesystem.allowRead[0]: must be an absolute path after "
             "expansion: \"\"");
}

BOOST_AUTO_TEST_CASE(expansion) {
  BOOST_TEST(
      mxc_error({{"filesystem", {{"allowRead", {"${WORKSPACE}/x"}}}}}, {std::nullopt, "/h"}) ==
      "config.json: mxc.filesystem.allowRead[0]: ${WORKSPACE} is used but no workspace is "
      "given (--workspace DIR or the annotation mxc.workspace)");
  BOOST_TEST(mxc_error({{"filesystem", {{"denyRead", {"${USER}/x"}}}}}) ==
             "config.json: mxc.filesystem.denyRead[0]: unknown variable ${USER}; expected "
             "${WORKSPACE} or ${HOME}");
  BOOST_TEST(mxc_error({{"filesystem", {{"denyRead", {"${HOME"}}}}}) ==
             "config.json: mxc.filesystem.denyRead[0]: unterminated ${ in \"${HOME\"");
  BOOST_TEST(mxc_error({{"filesystem", {{"denyRead", {"${HOME}/x"}}}}}, {"/w", ""}) ==
             "config.json: mxc.filesystem.denyRead[0]: ${HOME} is used but the invoking user's "
             "home is unknown");
  // Relative after expansion: a workspace is always absolute, but a leading variable is not.
  const auto p = text_ok(R"({"filesystem": {"allowRead": ["/x/$y", "${HOME}/${WORKSPACE}"]}})");
  BOOST_TEST(p.filesystem->allowRead[0].path == "/x/$y");
  BOOST_TEST(p.filesystem->allowRead[1].path == "/home/u/ws");
}

BOOST_AUTO_TEST_CASE(domains_and_addresses) {
  auto net = [](const json& n) { return json{{"network", n}}; };
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"allowDomains", {"10.0.0.1"}}})) ==
             "config.json: mxc.network.allowDomains[0]: \"10.0.0.1\" is an IP literal, not a "
             "domain (use network.allowCidrs for addresses)");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"allowDomains", {"::1"}}})) ==
             "config.json: mxc.network.allowDomains[0]: \"::1\" is an IP literal, not a domain "
             "(use network.allowCidrs for addresses)");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"allowDomains", {"a.*.com"}}})) ==
             "config.json: mxc.network.allowDomains[0]: \"a.*.com\" has a '*' that is not a "
             "leading \"*.\" wildcard");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"allowDomains", {"a..com"}}})) ==
             "config.json: mxc.network.allowDomains[0]: \"a..com\" has an empty label");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"allowDomains", {"a_b.com"}}})) ==
             "config.json: mxc.network.allowDomains[0]: \"a_b.com\" may contain only letters, "
             "digits, '-' and '.'");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"hosts", {{"a.test", {"10.0.0.300"}}}}})) ==
             "config.json: mxc.network.hosts.a.test[0]: \"10.0.0.300\" is not an IPv4 or IPv6 "
             "address");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"hosts", {{"a.test", json::array()}}}})) ==
             "config.json: mxc.network.hosts.a.test: must contain at least one address");
  BOOST_TEST(mxc_error(net({{"default", "deny"}, {"allowCidrs", {"10.0.0.0/33"}}})) ==
             "config.json: mxc.network.allowCidrs[0]: \"10.0.0.0/33\" is not a CIDR "
             "(ADDRESS/PREFIX)");
  auto ok = parse_policy(net({{"default", "deny"},
                              {"allowDomains", {"*.example.com", "localhost"}},
                              {"hosts", {{"api.example.com", {"127.0.0.1", "::1"}}}},
                              {"allowCidrs", {"127.0.0.0/8", "fd00::/8"}}}),
                         kCtx, "c");
  BOOST_TEST_REQUIRE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  BOOST_TEST(ok->network->hosts.at("api.example.com").size() == 2u);
}

BOOST_AUTO_TEST_CASE(network_egress) {
  const auto p = text_ok(R"(network:
  egress:
    allow:
      - to: [{cidr: "10.0.0.0/8", except: ["10.1.0.0/16"]}, {cidr: "FD00:0::/8"}]
        ports: [{protocol: tcp, port: 80, endPort: 90}, {port: 443}, {protocol: icmp}]
    deny:
      - to: [{cidr: 10.2.3.4/32}]
)");
  BOOST_TEST_REQUIRE(p.network->egress.has_value());
  const auto& e = *p.network->egress;
  BOOST_TEST(p.network->default_ == "allow");  // direct egress: the container keeps its network
  BOOST_TEST(e.default_ == "deny");
  BOOST_TEST(e.allow[0].to[1].cidr == "fd00::/8");  // normalised
  BOOST_TEST(e.allow[0].to[0].except[0] == "10.1.0.0/16");
  BOOST_TEST(*e.allow[0].ports[1].endPort == 443);  // endPort filled from port
  BOOST_TEST(e.allow[0].ports[1].protocol == "any");
  BOOST_TEST(!e.allow[0].ports[2].port.has_value());
  BOOST_TEST(e.deny[0].ports.empty());
  const json j = mxc::spec::egress_to_json(e);
  BOOST_TEST(j["deny"][0].dump() == R"({"to":[{"cidr":"10.2.3.4/32","except":[]}]})");
  BOOST_TEST(j["allow"][0]["ports"][0].dump() == R"({"endPort":90,"port":80,"protocol":"tcp"})");
  // The JSON reads back to the same rules.
  BOOST_TEST(mxc::spec::egress_to_json(*mxc::spec::parse_egress(j, "x", "e")) == j);

  auto eg = [](const json& body) { return json{{"network", {{"egress", body}}}}; };
  auto rule = [&](const json& r) { return eg({{"allow", {r}}}); };
  BOOST_TEST(mxc_error(rule({{"to", {{{"cidr", "10.0.0.1/8"}}}}})) ==
             "config.json: mxc.network.egress.allow[0].to[0].cidr: \"10.0.0.1/8\" has host bits "
             "set (bits after /8 must be 0)");
  BOOST_TEST(mxc_error(rule({{"to", {{{"cidr", "fd00::1/64"}}}}})) ==
             "config.json: mxc.network.egress.allow[0].to[0].cidr: \"fd00::1/64\" has host bits "
             "set (bits after /64 must be 0)");
  BOOST_TEST(mxc_error(rule({{"to", {{{"cidr", "10.0.0.0/33"}}}}})) ==
             "config.json: mxc.network.egress.allow[0].to[0].cidr: \"10.0.0.0/33\" is not a CIDR "
             "(ADDRESS/PREFIX)");
  BOOST_TEST(mxc_error(rule({{"to", {{{"cidr", "10.0.0.0/8"}, {"except", {"11.0.0.0/16"}}}}}})) ==
             "config.json: mxc.network.egress.allow[0].to[0].except[0]: \"11.0.0.0/16\" is not "
             "inside \"10.0.0.0/8\"");
  BOOST_TEST(mxc_error(rule({{"to", {{{"cidr", "10.0.0.0/8"}, {"except", {"fd00::/16"}}}}}})) ==
             "config.json: mxc.network.egress.allow[0].to[0].except[0]: \"fd00::/16\" is not of "
             "the address family of \"10.0.0.0/8\"");
  BOOST_TEST(mxc_error(rule({{"to", json::array()}})) ==
             "config.json: mxc.network.egress.allow[0].to: must contain at least one element");
  BOOST_TEST(mxc_error(rule({{"ports", {{{"protocol", "icmp"}, {"port", 1}}}}})) ==
             "config.json: mxc.network.egress.allow[0].ports[0].port: icmp has no ports; omit "
             "port and endPort");
  BOOST_TEST(mxc_error(rule({{"ports", {{{"endPort", 9}}}}})) ==
             "config.json: mxc.network.egress.allow[0].ports[0].endPort: needs port");
  BOOST_TEST(mxc_error(rule({{"ports", {{{"port", 9}, {"endPort", 8}}}}})) ==
             "config.json: mxc.network.egress.allow[0].ports[0].endPort: 8 is below port 9");
  BOOST_TEST(mxc_error(rule({{"ports", {{{"port", 0}}}}})) ==
             "config.json: mxc.network.egress.allow[0].ports[0].port: 0 is out of range (1 to "
             "65535)");
  BOOST_TEST(mxc_error(rule({{"ports", {{{"protocol", "sctp"}}}}})) ==
             "config.json: mxc.network.egress.allow[0].ports[0].protocol: unknown protocol "
             "\"sctp\"; expected one of tcp, udp, icmp, any");
  BOOST_TEST(mxc_error(rule({{"from", json::array()}})) ==
             "config.json: mxc.network.egress.allow[0].from: unknown field");
  BOOST_TEST(mxc_error(eg({{"default", "block"}})) ==
             "config.json: mxc.network.egress.default: unknown egress default \"block\"; expected "
             "one of allow, deny");
  BOOST_TEST(mxc_error({{"network", {{"default", "deny"}, {"egress", json::object()}}}}) ==
             "config.json: mxc.network.egress: cannot be combined with network.default: deny (a "
             "network with no route out); for direct egress omit network.default or set it to "
             "allow, and use egress.default");
  BOOST_TEST(mxc_error({{"network", {{"allowDomains", {"a.com"}}, {"egress", json::object()}}}}) ==
             "config.json: mxc.network.egress: cannot be combined with network.allowDomains: "
             "direct egress rules and the proxy-only network exclude each other; pick one");
  BOOST_TEST(
      mxc_error({{"network", {{"allowCidrs", {"10.0.0.0/8"}}, {"egress", json::object()}}}}) ==
      "config.json: mxc.network.egress: cannot be combined with network.allowCidrs: "
      "direct egress rules and the proxy-only network exclude each other; pick one");
}

BOOST_AUTO_TEST_CASE(domain_matching) {
  using mxc::spec::domain_allowed;
  const std::vector<std::string> allow = {"api.github.com", "*.npmjs.org"};
  BOOST_TEST(domain_allowed(allow, "API.GitHub.com"));
  BOOST_TEST(domain_allowed(allow, "api.github.com."));
  BOOST_TEST(!domain_allowed(allow, "github.com"));
  BOOST_TEST(!domain_allowed(allow, "xapi.github.com"));
  BOOST_TEST(domain_allowed(allow, "registry.npmjs.org"));
  BOOST_TEST(domain_allowed(allow, "a.b.npmjs.org"));
  BOOST_TEST(!domain_allowed(allow, "npmjs.org"));  // the bare domain is not below itself
  BOOST_TEST(!domain_allowed(allow, "evilnpmjs.org"));
}

BOOST_AUTO_TEST_CASE(yaml_types_follow_the_core_schema) {
  const auto p =
      text_ok("desktop: {shareClipboard: False, shareInput: false}\nlimits: {timeoutMs: 0x10}\n");
  BOOST_TEST(*p.limits->timeoutMs == 16u);
  BOOST_TEST(text_error("desktop: {shareInput: yes}\n") ==
             "p.yaml: desktop.shareInput: must be a boolean, got string \"yes\"");
  BOOST_TEST(text_error("limits: {timeoutMs: \"5\"}\n") ==
             "p.yaml: limits.timeoutMs: must be a uint64 (0 to 18446744073709551615), got string "
             "\"5\"");
  BOOST_TEST(text_error("limits: {timeoutMs: 99999999999999999999999}\n") ==
             "p.yaml: YAML line 1 column 21: integer \"99999999999999999999999\" is out of range");
  // Floats are numbers (decimal notation only): a float where an integer
  // belongs is a type error naming a number; hex floats and inf stay strings.
  BOOST_TEST(text_error("limits: {timeoutMs: 1.5}\n").find("got number 1.5") != std::string::npos,
             text_error("limits: {timeoutMs: 1.5}\n"));
  BOOST_TEST(
      text_error("limits: {timeoutMs: -2.5e3}\n").find("got number -2500") != std::string::npos,
      text_error("limits: {timeoutMs: -2.5e3}\n"));
  BOOST_TEST(
      text_error("limits: {timeoutMs: 0x1p3}\n").find("got string \"0x1p3\"") != std::string::npos,
      text_error("limits: {timeoutMs: 0x1p3}\n"));
  BOOST_TEST(
      text_error("limits: {timeoutMs: 1e999}\n").find("got string \"1e999\"") != std::string::npos,
      text_error("limits: {timeoutMs: 1e999}\n"));
  BOOST_TEST(text_error("agent: !!binary aGVsbG8=\n") ==
             "p.yaml: YAML line 1 column 8: unsupported tag \"tag:yaml.org,2002:binary\"");
}

BOOST_AUTO_TEST_CASE(yaml_structure_errors) {
  BOOST_TEST(text_error("desktop: {shareInput: true}\ndesktop: {}\n") ==
             "p.yaml: YAML line 2 column 1: duplicate key \"desktop\"");
  BOOST_TEST(text_error("a: 1\n---\nb: 2\n") == "p.yaml: more than one YAML document");
  BOOST_TEST(text_error("") == "p.yaml: empty document");
  BOOST_TEST(text_error("   \n") == "p.yaml: empty document");
  BOOST_TEST(text_error("a: [1, 2\n").find("p.yaml: invalid YAML line ") == 0u);
  BOOST_TEST(text_error("{\"a\": 1,}").find("p.yaml: invalid JSON at line 1 column 9") == 0u);
  BOOST_TEST(text_error("- a\n- b\n") == "p.yaml: must be an object, got array");
  BOOST_TEST(text_error("? [a]\n: b\n") ==
             "p.yaml: YAML line 1 column 3: mapping keys must be scalars");
}

BOOST_AUTO_TEST_CASE(yaml_aliases_are_expanded_and_capped) {
  // An ordinary alias works.
  const auto p = text_ok("filesystem:\n  allowRead: &r [\"/a\"]\n  denyRead: *r\n");
  BOOST_TEST(p.filesystem->denyRead[0].path == "/a");
  // Billion laughs: each level multiplies by 10.
  std::string bomb = "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? "," : "") + "*" + prev;
    bomb += "]\n";
  }
  const std::string e = text_error(bomb);
  BOOST_TEST(e.find("p.yaml: YAML line ") == 0u, e);
  BOOST_TEST(
      e.find("more than 100000 nodes after alias expansion (an alias bomb?)") != std::string::npos,
      e);
  BOOST_TEST(
      text_error("a: &a [*a]\n") ==
      "p.yaml: YAML line 1 column 8: alias to a node that is not complete (recursive alias)");
}

BOOST_AUTO_TEST_CASE(nesting_and_size_limits) {
  std::string deep_yaml;
  for (int i = 0; i < 65; ++i) deep_yaml += "[";
  for (int i = 0; i < 65; ++i) deep_yaml += "]";
  BOOST_TEST(text_error(deep_yaml) ==
             "p.yaml: YAML line 1 column 65: nesting deeper than 64 levels");
  std::string very_deep(100000, '[');
  BOOST_TEST(text_error(very_deep).find("nesting deeper than 64 levels") != std::string::npos);
  std::string deep_json = "{\"a\":";
  for (int i = 0; i < 70; ++i) deep_json += "[";
  for (int i = 0; i < 70; ++i) deep_json += "]";
  deep_json += "}";
  BOOST_TEST(text_error(deep_json) == "p.yaml: nesting deeper than 64 levels");
  std::string big = "# " + std::string(1 << 20, 'x') + "\n";
  BOOST_TEST(text_error(big) == "p.yaml: policy document is larger than 1 MiB (1048579 bytes)");
  BOOST_TEST(text_error(std::string("a: \"\0\"", 7)) ==
             "p.yaml: policy document contains a NUL byte");
  BOOST_TEST(text_error("filesystem: {allowRead: [\"/a\\0b\"]}\n") ==
             "p.yaml: filesystem.allowRead[0]: contains a NUL byte");
}

BOOST_AUTO_TEST_SUITE_END()
