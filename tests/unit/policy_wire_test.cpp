// spec/mxc_wire: MXC 0.8.0-alpha wire configurations against the schema's rules.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "mxc/spec/mxc_wire.hpp"

namespace {

using mxc::spec::parse_mxc_wire;
using mxc::spec::parse_mxc_wire_json;
using mxc::spec::wire_to_policy;
using mxc::spec::WireConfig;
using nlohmann::json;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json schema() {
  const auto path =
      std::filesystem::path(MXC_SCHEMAS_DIR) / "mxc" / "mxc-config.schema.0.8.0-alpha.json";
  BOOST_TEST_REQUIRE(std::filesystem::exists(path), path << " is missing");
  return json::parse(read(path));
}

json with_process(json j) {
  if (!j.contains("process")) j["process"] = {{"commandLine", "true"}};
  return j;
}

std::string wire_error(const json& j) {
  auto w = parse_mxc_wire_json(with_process(j), "w.json");
  BOOST_TEST_REQUIRE(!w.ok(), "expected an error for " << j.dump());
  return w.error().message;
}

WireConfig wire_ok(const json& j) {
  auto w = parse_mxc_wire_json(with_process(j), "w.json");
  BOOST_TEST_REQUIRE(w.ok(), (w.ok() ? "" : w.error().message));
  return *w;
}

std::string policy_error(const json& j) {
  auto p = wire_to_policy(wire_ok(j), "w.json");
  BOOST_TEST_REQUIRE(!p.ok(), "expected an error for " << j.dump());
  return p.error().message;
}

// A value of the wrong type for a schema node ("type": X or [X, "null"]).
json wrong_value(const json& node) {
  std::set<std::string> types;
  if (node.contains("type")) {
    if (node["type"].is_string())
      types.insert(node["type"].get<std::string>());
    else
      for (const auto& t : node["type"]) types.insert(t.get<std::string>());
  }
  if (!types.count("string") && !node.contains("enum")) return "text";
  return json::array(
      {json::array()});  // nested array: never a string/bool/int/object/array of strings
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_wire)

// Every property of every object definition in the schema: a known field
// decodes, an unknown sibling is refused naming its path, and a value of the
// wrong type is refused naming the field.
BOOST_AUTO_TEST_CASE(schema_properties_and_additional_properties) {
  const json s = schema();
  // Where each definition sits in a document (objects reachable by one path).
  const std::map<std::string, std::string> where = {
      {"Filesystem", "filesystem"},
      {"Network", "network"},
      {"Process", "process"},
      {"Lifecycle", "lifecycle"},
      {"Lxc", "lxc"},
      {"Fallback", "fallback"},
      {"RuntimeConfig", "runtimeConfig"},
      {"Seatbelt", "seatbelt"},
      {"Ui", "ui"},
      {"ProcessContainer", "processContainer"},
      {"NetworkIngress", "network.ingress"},
      {"NetworkEgress", "network.egress"},
      {"CaptureDenials", "processContainer.captureDenials"},
      {"BaseProcessUi", "processContainer.ui"},
      {"ProcessContainerNetwork", "processContainer.network"}};
  size_t checked = 0;
  for (const auto& [def, path] : where) {
    const json& d = s["definitions"][def];
    BOOST_TEST_REQUIRE(d["additionalProperties"] == false, def);
    // Build {"a": {"b": {...}}} for the path.
    auto nest = [&](const json& leaf) {
      json doc = leaf;
      std::vector<std::string> parts;
      std::stringstream ss(path);
      for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) doc = json{{*it, doc}};
      return doc;
    };
    BOOST_TEST(wire_error(nest({{"bogus", 1}})) == "w.json: " + path + ".bogus: unknown field");
    for (const auto& [prop, node] : d["properties"].items()) {
      json bad = nest({{prop, wrong_value(node)}});
      const std::string e = wire_error(bad);
      BOOST_TEST(e.find("w.json: " + path + "." + prop) == 0u, def << "." << prop << ": " << e);
      // null means absent everywhere.
      BOOST_TEST(parse_mxc_wire_json(with_process(nest({{prop, nullptr}})), "w").ok(),
                 def << "." << prop);
      ++checked;
    }
  }
  BOOST_TEST(checked > 40u);
  for (const auto& [prop, node] : s["properties"].items()) {
    if (prop == "_comment" || prop == "process") continue;
    const std::string e = wire_error({{prop, json::array({json::array()})}});
    BOOST_TEST(e.find("w.json: " + prop) == 0u, prop << ": " << e);
  }
  BOOST_TEST(wire_error({{"extra", 1}}) == "w.json: extra: unknown field");
}

BOOST_AUTO_TEST_CASE(enums_from_the_schema) {
  const json s = schema();
  for (const auto& c : s["definitions"]["Containment"]["oneOf"]) {
    BOOST_TEST(*wire_ok({{"containment", c["enum"][0]}}).containment ==
               c["enum"][0].get<std::string>());
  }
  BOOST_TEST(wire_error({{"containment", "docker"}}) ==
             "w.json: containment: unknown containment \"docker\"; expected one of process, "
             "processcontainer, lxc, seatbelt, bubblewrap");
  for (const auto& p : s["definitions"]["NetworkProtocol"]["enum"]) {
    BOOST_TEST(wire_ok({{"network", {{"egress", {{"allow", {{{"ports", {{{"protocol", p}}}}}}}}}}}})
                   .network->egress->allow[0]
                   .ports[0]
                   .protocol == p.get<std::string>());
  }
  BOOST_TEST(wire_error({{"ui", {{"clipboard", "some"}}}}) ==
             "w.json: ui.clipboard: unknown clipboard policy \"some\"; expected one of none, read, "
             "write, all");
}

BOOST_AUTO_TEST_CASE(versions) {
  for (const char* v : {"0.6", "0.7.1", "0.8.0-alpha", "0.9.3", "0.8.0+build.1"}) {
    BOOST_TEST(wire_ok({{"version", v}}).version.value() == v);
  }
  for (const char* v : {"0.5.0", "1.0.0", "0.10.0", "0.8.", "0.8.x", "", "v0.8"}) {
    BOOST_TEST(wire_error({{"version", v}}) ==
               "w.json: version: unsupported MXC configuration "
               "version " +
                   json(v).dump() + "; this runtime accepts 0.6 to 0.9");
  }
}

BOOST_AUTO_TEST_CASE(process_rules) {
  auto w = parse_mxc_wire_json(json{{"version", "0.8"}}, "w.json");
  BOOST_TEST(w.error().message == "w.json: process: required field is missing");
  BOOST_TEST(parse_mxc_wire_json(json{{"process", nullptr}}, "w").ok());
  BOOST_TEST(wire_error({{"process", {{"timeout", -1}}}}) ==
             "w.json: process.timeout: -1 is out of range for a uint32 (0 to 4294967295)");
  BOOST_TEST(wire_error({{"process", {{"timeout", 4294967296}}}}) ==
             "w.json: process.timeout: 4294967296 is out of range for a uint32 (0 to 4294967295)");
  BOOST_TEST(wire_error({{"process", {{"env", {"A=1", "B"}}}}}) ==
             "w.json: process.env[1]: must be KEY=VALUE, got \"B\"");
  const auto ok =
      wire_ok({{"process",
                {{"commandLine", "echo hi"}, {"cwd", "/tmp"}, {"env", {"A=1"}}, {"timeout", 5}}}});
  BOOST_TEST(*ok.process.commandLine == "echo hi");
  BOOST_TEST(*ok.process.timeout == 5u);
}

BOOST_AUTO_TEST_CASE(network_rules) {
  BOOST_TEST(
      wire_error({{"network", {{"defaultPolicy", "block"}, {"egress", {{"default", "deny"}}}}}}) ==
      "w.json: network.egress: cannot be mixed with the legacy field network.defaultPolicy "
      "in one request");
  BOOST_TEST(
      wire_error(
          {{"network", {{"allowedHosts", {"a.com"}}, {"ingress", {{"default", "deny"}}}}}}) ==
      "w.json: network.ingress: cannot be mixed with the legacy field network.allowedHosts in "
      "one request");
  auto rule = [](const json& r) { return json{{"network", {{"egress", {{"allow", {r}}}}}}}; };
  BOOST_TEST(wire_error(rule({{"to", json::array()}})) ==
             "w.json: network.egress.allow[0].to: must contain at least one element");
  BOOST_TEST(wire_error(rule({{"to", {{{"cidr", "10.0.0.0/40"}}}}})) ==
             "w.json: network.egress.allow[0].to[0].cidr: \"10.0.0.0/40\" is not a CIDR "
             "(ADDRESS/PREFIX)");
  BOOST_TEST(wire_error(rule({{"to", {{{"except", {"10.1.0.0/16"}}}}}})) ==
             "w.json: network.egress.allow[0].to[0].cidr: required field is missing");
  BOOST_TEST(wire_error(rule({{"to", {{{"cidr", "10.0.0.0/8"}, {"except", {"fd00::/8"}}}}}})) ==
             "w.json: network.egress.allow[0].to[0].except[0]: \"fd00::/8\" is not of the address "
             "family of \"10.0.0.0/8\"");
  BOOST_TEST(wire_error(rule({{"ports", {{{"port", 0}}}}})) ==
             "w.json: network.egress.allow[0].ports[0].port: 0 is out of range (1 to 65535)");
  BOOST_TEST(wire_error(rule({{"ports", {{{"endPort", 80}}}}})) ==
             "w.json: network.egress.allow[0].ports[0].endPort: needs port");
  BOOST_TEST(wire_error(rule({{"ports", {{{"port", 90}, {"endPort", 80}}}}})) ==
             "w.json: network.egress.allow[0].ports[0].endPort: 80 is below port 90");
  BOOST_TEST(wire_error({{"network", {{"proxy", {{"localhost", 8080}, {"url", "http://x"}}}}}}) ==
             "w.json: network.proxy: must have exactly one of builtinTestServer, localhost, url "
             "(has 2)");
  const auto w = wire_ok(rule(
      {{"to", {{{"cidr", "10.0.0.0/8"}, {"except", {"10.1.0.0/16"}}}}},
       {"ports", {{{"port", 443}, {"protocol", "tcp"}}, {{"port", 1000}, {"endPort", 2000}}}}}));
  const auto& r = w.network->egress->allow[0];
  BOOST_TEST(r.to[0].except[0] == "10.1.0.0/16");
  BOOST_TEST(*r.ports[1].endPort == 2000);
  BOOST_TEST(r.ports[1].protocol == "any");
  BOOST_TEST(w.network->egress->default_ == "deny");
}

BOOST_AUTO_TEST_CASE(filesystem_paths) {
  BOOST_TEST(wire_error({{"filesystem", {{"readonlyPaths", {"/usr", "rel"}}}}}) ==
             "w.json: filesystem.readonlyPaths[1]: must be an absolute path: \"rel\"");
  BOOST_TEST(wire_error({{"filesystem", {{"deniedPaths", {"/a/../b"}}}}}) ==
             "w.json: filesystem.deniedPaths[0]: must not contain a \"..\" component: \"/a/../b\"");
  BOOST_TEST(
      wire_ok({{"filesystem", {{"readwritePaths", {"/a//b/"}}}}}).filesystem->readwritePaths[0] ==
      "/a/b");
}

BOOST_AUTO_TEST_CASE(example_config_converts) {
  const auto text = read(std::filesystem::path(MXC_SOURCE_DIR) / "examples/mxc-wire/config.json");
  auto w = parse_mxc_wire(text, "config.json");
  BOOST_TEST_REQUIRE(w.ok(), (w.ok() ? "" : w.error().message));
  auto p = wire_to_policy(*w, "config.json");
  BOOST_TEST_REQUIRE(p.ok(), (p.ok() ? "" : p.error().message));
  BOOST_TEST(*p->isolation->backend == "processcontainer");
  BOOST_TEST(p->filesystem->allowRead[0].path == "/tmp/mxc-wire-example");
  BOOST_TEST(p->filesystem->allowWrite[0].path == "/tmp/mxc-wire-example/out");
  BOOST_TEST(p->filesystem->denyRead[0].path == "/tmp/mxc-wire-example/secret");
  BOOST_TEST(p->network->default_ == "deny");
  BOOST_TEST(*p->limits->timeoutMs == 10000u);
}

BOOST_AUTO_TEST_CASE(conversion) {
  auto legacy = wire_to_policy(
      wire_ok({{"network",
                {{"defaultPolicy", "block"},
                 {"allowedHosts", {"api.github.com", "*.npmjs.org", "10.0.0.1", "::1"}}}}}),
      "w");
  BOOST_TEST_REQUIRE(legacy.ok(), (legacy.ok() ? "" : legacy.error().message));
  BOOST_TEST(legacy->network->default_ == "deny");
  BOOST_TEST(legacy->network->allowDomains.size() == 2u);
  BOOST_TEST(legacy->network->allowCidrs[0] == "10.0.0.1/32");
  BOOST_TEST(legacy->network->allowCidrs[1] == "::1/128");
  BOOST_TEST(policy_error({{"network", {{"blockedHosts", {"a.com"}}}}}) ==
             "w.json: network.blockedHosts: a host deny list cannot be enforced; use defaultPolicy "
             "block with allowedHosts");
  BOOST_TEST(policy_error({{"network", {{"allowedHosts", {"a.com"}}}}}) ==
             "w.json: network.allowedHosts: needs defaultPolicy block (with allow every host is "
             "reachable)");
  BOOST_TEST(policy_error({{"network",
                            {{"egress", {{"allow", {{{"to", {{{"cidr", "10.0.0.1/8"}}}}}}}}}}}}) ==
             "w.json: network.egress.allow[0].to[0].cidr: \"10.0.0.1/8\" has host bits set (bits "
             "after /8 must be 0)");
  BOOST_TEST(
      policy_error(
          {{"network",
            {{"egress", {{"deny", {{{"ports", {{{"protocol", "icmp"}, {"port", 1}}}}}}}}}}}}) ==
      "w.json: network.egress.deny[0].ports[0].port: icmp has no ports; omit port and "
      "endPort");
  // Direct egress rules map to the policy's network.egress.
  auto direct = wire_to_policy(
      wire_ok({{"network",
                {{"egress",
                  {{"allow", {{{"to", {{{"cidr", "10.0.0.0/8"}}}}, {"ports", {{{"port", 443}}}}}}},
                   {"deny", {{{"to", {{{"cidr", "fd00::/8"}}}}}}}}}}}}),
      "w.json");
  BOOST_TEST_REQUIRE(static_cast<bool>(direct), (direct ? "" : direct.error().message));
  BOOST_TEST(direct->network->default_ == "allow");
  BOOST_TEST_REQUIRE(direct->network->egress.has_value());
  BOOST_TEST(direct->network->egress->default_ == "deny");
  BOOST_TEST(direct->network->egress->allow[0].to[0].cidr == "10.0.0.0/8");
  BOOST_TEST(*direct->network->egress->allow[0].ports[0].endPort == 443);
  BOOST_TEST(direct->network->egress->deny[0].to[0].cidr == "fd00::/8");
  // Without rules egress stays all or nothing (no BPF program).
  auto none = wire_to_policy(wire_ok({{"network", {{"egress", {{"default", "deny"}}}}}}), "w");
  BOOST_TEST(!none->network->egress.has_value());
  BOOST_TEST(none->network->default_ == "deny");
  // ingress: inbound from the network is never allowed; the host's loopback
  // only where the container has the host's network (direct egress).
  BOOST_TEST(policy_error({{"network", {{"ingress", {{"default", "allow"}}}}}}) ==
             "w.json: network.ingress.default: allow cannot be enforced (inbound connections "
             "are not filtered)");
  BOOST_TEST(policy_error({{"network", {{"ingress", {{"hostLoopback", "allow"}}}}}}) ==
             "w.json: network.ingress.hostLoopback: allow needs direct egress (network.egress "
             "with default allow or rules): without it the container has its own network, and "
             "its own loopback");
  auto lo_allowed =
      wire_to_policy(wire_ok({{"network",
                               {{"egress", {{"allow", {{{"to", {{{"cidr", "10.0.0.0/8"}}}}}}}}},
                                {"ingress", {{"hostLoopback", "allow"}}}}}}),
                     "w");
  BOOST_TEST_REQUIRE(static_cast<bool>(lo_allowed), (lo_allowed ? "" : lo_allowed.error().message));
  BOOST_TEST(*lo_allowed->network->hostLoopback == "allow");
  // The host's network unfiltered, its loopback denied: the field is carried
  // over (the policy compiler gives it an allow-all filter: policy_compile_test).
  auto lo_denied = wire_to_policy(
      wire_ok({{"network",
                {{"egress", {{"default", "allow"}}}, {"ingress", {{"hostLoopback", "deny"}}}}}}),
      "w");
  BOOST_TEST_REQUIRE(static_cast<bool>(lo_denied), (lo_denied ? "" : lo_denied.error().message));
  BOOST_TEST(lo_denied->network->default_ == "allow");
  BOOST_TEST(*lo_denied->network->hostLoopback == "deny");
  BOOST_TEST(policy_error({{"ui", {{"clipboard", "read"}}}}) ==
             "w.json: ui.clipboard: \"read\" needs the session tier");
  BOOST_TEST(policy_error({{"containment", "seatbelt"}}) ==
             "w.json: containment: \"seatbelt\" is not available on Linux (use process, bubblewrap "
             "or lxc)");
  BOOST_TEST(*wire_to_policy(wire_ok({{"containment", "bubblewrap"}}), "w")->isolation->backend ==
             "bubblewrap");
  // No network section: nothing about the network; an empty one: the 0.8 default, deny.
  BOOST_TEST(!wire_to_policy(wire_ok(json::object()), "w")->network.has_value());
  BOOST_TEST(wire_to_policy(wire_ok({{"network", json::object()}}), "w")->network->default_ ==
             "deny");
}

BOOST_AUTO_TEST_CASE(base64) {
  using mxc::spec::decode_base64;
  BOOST_TEST(*decode_base64("eyJhIjoxfQ==", "b") == "{\"a\":1}");
  BOOST_TEST(*decode_base64("eyJhIjoxfQ", "b") == "{\"a\":1}");
  BOOST_TEST(decode_base64("ey J", "--config-base64").error().message ==
             "--config-base64: invalid base64 character at offset 2");
  BOOST_TEST(decode_base64("eyJhI", "b").error().message == "b: invalid base64 length");
}

BOOST_AUTO_TEST_SUITE_END()
