// MXC wire configurations (mxc_wire.hpp).
#include "mxc/spec/mxc_wire.hpp"

#include <algorithm>

#include "json_reader.hpp"

namespace mxc::spec {

using detail::child_path;
using detail::describe;
using detail::index_path;
using detail::json;
using detail::Object;
using detail::quote;
using detail::Reader;

namespace {

constexpr std::string_view kActions[] = {"allow", "deny"};
constexpr std::string_view kProtocols[] = {"tcp", "udp", "icmp", "any"};
constexpr std::string_view kContainments[] = {"process", "processcontainer", "lxc", "seatbelt",
                                              "bubblewrap"};
constexpr std::string_view kLegacyPolicies[] = {"allow", "block"};
constexpr std::string_view kEnforcements[] = {"capabilities", "firewall", "both"};
constexpr std::string_view kClipboard[] = {"none", "read", "write", "all"};
constexpr std::string_view kUiIsolation[] = {"desktop", "handles", "atoms", "container"};
constexpr std::string_view kCaptureModes[] = {"block", "allow"};

// "0.8", "0.8.0", "0.8.0-alpha": major 0, minor 6 to 9.
bool supported_version(std::string_view v) {
  if (v.size() < 3 || v.substr(0, 2) != "0.") return false;
  if (v[2] < '6' || v[2] > '9') return false;
  if (v.size() == 3) return true;
  // After major.minor: ".patch" then an optional "-pre" or "+build".
  if (v[3] != '.' || v.size() == 4) return false;
  size_t i = 4;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  if (i == 4) return false;
  if (i == v.size()) return true;
  if (v[i] != '-' && v[i] != '+') return false;
  return i + 1 < v.size() && std::all_of(v.begin() + static_cast<long>(i) + 1, v.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || c == '-';
         });
}

// Absolute, no NUL, no `.`/`..`; repeated and trailing `/` collapsed.
std::string normalise_path(Reader& r, const std::string& path, const std::string& p) {
  if (p.find('\0') != std::string::npos) {
    r.fail(path, "contains a NUL byte");
    return p;
  }
  if (p.empty() || p[0] != '/') {
    r.fail(path, "must be an absolute path: " + quote(p));
    return p;
  }
  std::string out;
  size_t pos = 1;
  while (pos <= p.size()) {
    size_t end = p.find('/', pos);
    if (end == std::string::npos) end = p.size();
    const std::string part = p.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty()) continue;
    if (part == "." || part == "..") {
      r.fail(path, "must not contain a \"" + part + "\" component: " + quote(p));
      return p;
    }
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

void decode_paths(Reader& r, Object& o, std::string_view key, std::vector<std::string>& out) {
  o.opt(key, out);
  for (size_t i = 0; i < out.size() && r.ok(); ++i) {
    out[i] = normalise_path(r, index_path(child_path(o.path(), key), i), out[i]);
  }
}

void decode_port(Reader& r, const json& j, const std::string& path, WirePort& out) {
  detail::reject_unknown(r, j, path, {"port", "endPort", "protocol"});
  Object o(r, j, path);
  o.opt("port", out.port, detail::Between{1, 65535});
  o.opt("endPort", out.endPort, detail::Between{1, 65535});
  o.opt("protocol", out.protocol, detail::OneOf{kProtocols, "protocol"});
  if (!r.ok()) return;
  if (out.endPort && !out.port) r.fail(child_path(path, "endPort"), "needs port");
  if (out.endPort && out.port && *out.endPort < *out.port) {
    r.fail(child_path(path, "endPort"),
           std::to_string(*out.endPort) + " is below port " + std::to_string(*out.port));
  }
}

void check_cidr(Reader& r, const std::string& path, const std::string& v) {
  if (!is_cidr(v)) r.fail(path, quote(v) + " is not a CIDR (ADDRESS/PREFIX)");
}

void decode_peer(Reader& r, const json& j, const std::string& path, WirePeer& out) {
  detail::reject_unknown(r, j, path, {"cidr", "except"});
  Object o(r, j, path);
  o.req("cidr", out.cidr, check_cidr);
  o.opt("except", out.except, detail::Each{check_cidr});
  if (!r.ok()) return;
  const bool v6 = out.cidr.find(':') != std::string::npos;
  for (size_t i = 0; i < out.except.size(); ++i) {
    if ((out.except[i].find(':') != std::string::npos) != v6) {
      r.fail(index_path(child_path(path, "except"), i),
             quote(out.except[i]) + " is not of the address family of " + quote(out.cidr));
      return;
    }
  }
}

void decode_rule(Reader& r, const json& j, const std::string& path, WireRule& out) {
  detail::reject_unknown(r, j, path, {"to", "ports"});
  Object o(r, j, path);
  if (const json* to = o.get("to"); to && r.ok()) {
    if (!to->is_array()) {
      r.fail(child_path(path, "to"), "must be an array, got " + describe(*to));
      return;
    }
    if (to->empty()) r.fail(child_path(path, "to"), "must contain at least one element");
    for (size_t i = 0; i < to->size() && r.ok(); ++i) {
      WirePeer peer;
      decode_peer(r, (*to)[i], index_path(child_path(path, "to"), i), peer);
      out.to.push_back(std::move(peer));
    }
  }
  if (const json* ports = o.get("ports"); ports && r.ok()) {
    if (!ports->is_array()) {
      r.fail(child_path(path, "ports"), "must be an array, got " + describe(*ports));
      return;
    }
    if (ports->empty()) r.fail(child_path(path, "ports"), "must contain at least one element");
    for (size_t i = 0; i < ports->size() && r.ok(); ++i) {
      WirePort port;
      decode_port(r, (*ports)[i], index_path(child_path(path, "ports"), i), port);
      out.ports.push_back(std::move(port));
    }
  }
}

void decode_rules(Reader& r, Object& o, std::string_view key, std::vector<WireRule>& out) {
  const json* v = o.get(key);
  if (v == nullptr || !r.ok()) return;
  const std::string path = child_path(o.path(), key);
  if (!v->is_array()) {
    r.fail(path, "must be an array, got " + describe(*v));
    return;
  }
  for (size_t i = 0; i < v->size() && r.ok(); ++i) {
    WireRule rule;
    decode_rule(r, (*v)[i], index_path(path, i), rule);
    out.push_back(std::move(rule));
  }
}

void decode_network(Reader& r, const json& j, const std::string& path, WireNetwork& out) {
  detail::reject_unknown(r, j, path,
                         {"allowLocalNetwork", "allowedHosts", "blockedHosts", "defaultPolicy",
                          "egress", "enforcementMode", "ingress", "proxy"});
  Object o(r, j, path);
  o.opt("allowLocalNetwork", out.allowLocalNetwork);
  o.opt("allowedHosts", out.allowedHosts);
  o.opt("blockedHosts", out.blockedHosts);
  o.opt("defaultPolicy", out.defaultPolicy, detail::OneOf{kLegacyPolicies, "default policy"});
  o.opt("enforcementMode", out.enforcementMode, detail::OneOf{kEnforcements, "enforcement mode"});
  if (const json* e = o.get("egress"); e && r.ok()) {
    const std::string ep = child_path(path, "egress");
    detail::reject_unknown(r, *e, ep, {"allow", "default", "deny"});
    Object eo(r, *e, ep);
    WireEgress egress;
    eo.opt("default", egress.default_, detail::OneOf{kActions, "action"});
    decode_rules(r, eo, "allow", egress.allow);
    decode_rules(r, eo, "deny", egress.deny);
    if (r.ok()) out.egress = std::move(egress);
  }
  if (const json* i = o.get("ingress"); i && r.ok()) {
    const std::string ip = child_path(path, "ingress");
    detail::reject_unknown(r, *i, ip, {"default", "hostLoopback"});
    Object io(r, *i, ip);
    WireIngress ingress;
    io.opt("default", ingress.default_, detail::OneOf{kActions, "action"});
    io.opt("hostLoopback", ingress.hostLoopback, detail::OneOf{kActions, "action"});
    if (r.ok()) out.ingress = std::move(ingress);
  }
  if (const json* p = o.get("proxy"); p && r.ok()) {
    const std::string pp = child_path(path, "proxy");
    detail::reject_unknown(r, *p, pp, {"builtinTestServer", "localhost", "url"});
    Object po(r, *p, pp);
    WireProxy proxy;
    po.opt("builtinTestServer", proxy.builtinTestServer);
    po.opt("localhost", proxy.localhost, detail::Between{1, 65535});
    po.opt("url", proxy.url);
    const int variants =
        (proxy.builtinTestServer ? 1 : 0) + (proxy.localhost ? 1 : 0) + (proxy.url ? 1 : 0);
    if (r.ok() && variants != 1) {
      r.fail(pp, "must have exactly one of builtinTestServer, localhost, url (has " +
                     std::to_string(variants) + ")");
    }
    if (r.ok()) out.proxy = std::move(proxy);
  }
  if (!r.ok()) return;
  const char* legacy = nullptr;
  if (o.get("defaultPolicy"))
    legacy = "defaultPolicy";
  else if (o.get("allowedHosts"))
    legacy = "allowedHosts";
  else if (o.get("blockedHosts"))
    legacy = "blockedHosts";
  else if (o.get("allowLocalNetwork"))
    legacy = "allowLocalNetwork";
  else if (o.get("enforcementMode"))
    legacy = "enforcementMode";
  const char* directional = out.egress ? "egress" : out.ingress ? "ingress" : nullptr;
  if (legacy && directional) {
    r.fail(
        child_path(path, directional),
        std::string("cannot be mixed with the legacy field network.") + legacy + " in one request");
  }
}

// Other platforms' sections: every field's type checked, kept as JSON.
void check_platform_sections(Reader& r, Object& o, json& keep) {
  if (const json* f = o.get("fallback"); f && r.ok()) {
    detail::reject_unknown(r, *f, "fallback", {"allowDaclMutation"});
    Object fo(r, *f, "fallback");
    fo.check<bool>("allowDaclMutation");
    keep["fallback"] = *f;
  }
  if (const json* l = o.get("lxc"); l && r.ok()) {
    detail::reject_unknown(r, *l, "lxc", {"distribution", "release"});
    Object lo(r, *l, "lxc");
    lo.check<std::string>("distribution");
    lo.check<std::string>("release");
    keep["lxc"] = *l;
  }
  if (const json* s = o.get("seatbelt"); s && r.ok()) {
    detail::reject_unknown(r, *s, "seatbelt",
                           {"extraMachLookups", "guiAccess", "keychainAccess", "launchMethod",
                            "nestedPty", "profileOverride"});
    Object so(r, *s, "seatbelt");
    static constexpr std::string_view kLaunch[] = {"exec", "open"};
    so.check<std::vector<std::string>>("extraMachLookups");
    so.check<bool>("guiAccess");
    so.check<bool>("keychainAccess");
    so.check<std::string>("launchMethod", detail::OneOf{kLaunch, "launch method"});
    so.check<bool>("nestedPty");
    so.check<std::string>("profileOverride");
    keep["seatbelt"] = *s;
  }
  if (const json* p = o.get("processContainer"); p && r.ok()) {
    const std::string pp = "processContainer";
    detail::reject_unknown(
        r, *p, pp,
        {"capabilities", "captureDenials", "learningMode", "leastPrivilege", "network", "ui"});
    Object po(r, *p, pp);
    po.check<std::vector<std::string>>("capabilities");
    po.check<bool>("learningMode");
    po.check<bool>("leastPrivilege");
    if (const json* c = po.get("captureDenials"); c && r.ok()) {
      const std::string cp = pp + ".captureDenials";
      detail::reject_unknown(r, *c, cp, {"mode", "outputPath", "retainEtl"});
      Object co(r, *c, cp);
      co.check<std::string>("mode", detail::OneOf{kCaptureModes, "capture mode"});
      co.check<std::string>("outputPath");
      co.check<bool>("retainEtl");
    }
    if (const json* n = po.get("network"); n && r.ok()) {
      const std::string np = pp + ".network";
      detail::reject_unknown(r, *n, np, {"allowedProxyPeer"});
      Object no(r, *n, np);
      no.check<std::string>("allowedProxyPeer");
    }
    if (const json* u = po.get("ui"); u && r.ok()) {
      const std::string up = pp + ".ui";
      detail::reject_unknown(r, *u, up,
                             {"desktopSystemControl", "ime", "isolation", "systemSettings"});
      Object uo(r, *u, up);
      uo.check<bool>("desktopSystemControl");
      uo.check<bool>("ime");
      uo.check<std::string>("isolation", detail::OneOf{kUiIsolation, "UI isolation"});
      uo.check<std::string>("systemSettings");
    }
    keep["processContainer"] = *p;
  }
}

}  // namespace

Result<WireConfig> parse_mxc_wire_json(const json& j, std::string_view label) {
  Reader r(label);
  WireConfig w;
  if (!j.is_object()) {
    r.fail("", "must be a JSON object, got " + describe(j));
    return r.error();
  }
  detail::reject_unknown(r, j, "",
                         {"$schema", "_comment", "containerId", "containment", "fallback",
                          "filesystem", "lifecycle", "lxc", "network", "process",
                          "processContainer", "runtimeConfig", "seatbelt", "ui", "version"});
  Object o(r, j, "");
  o.check<std::string>("$schema");
  o.opt("version", w.version);
  if (r.ok() && w.version && !supported_version(*w.version)) {
    r.fail("version", "unsupported MXC configuration version " + quote(*w.version) +
                          "; this runtime accepts 0.6 to 0.9");
  }
  o.opt("containerId", w.containerId);
  o.opt("containment", w.containment, detail::OneOf{kContainments, "containment"});

  // `process` is required but may be null (the schema's anyOf).
  if (r.ok() && !j.contains("process")) r.fail("process", "required field is missing");
  if (const json* p = o.get("process"); p && r.ok()) {
    detail::reject_unknown(r, *p, "process", {"commandLine", "cwd", "env", "timeout"});
    Object po(r, *p, "process");
    po.opt("commandLine", w.process.commandLine);
    po.opt("cwd", w.process.cwd);
    po.opt("env", w.process.env);
    po.opt("timeout", w.process.timeout);
    for (size_t i = 0; i < w.process.env.size() && r.ok(); ++i) {
      const std::string& e = w.process.env[i];
      const size_t eq = e.find('=');
      if (eq == std::string::npos || eq == 0 || e.find('\0') != std::string::npos) {
        r.fail(index_path("process.env", i), "must be KEY=VALUE, got " + quote(e));
      }
    }
  }

  if (const json* f = o.get("filesystem"); f && r.ok()) {
    detail::reject_unknown(r, *f, "filesystem", {"deniedPaths", "readonlyPaths", "readwritePaths"});
    Object fo(r, *f, "filesystem");
    WireFilesystem fs;
    decode_paths(r, fo, "readwritePaths", fs.readwritePaths);
    decode_paths(r, fo, "readonlyPaths", fs.readonlyPaths);
    decode_paths(r, fo, "deniedPaths", fs.deniedPaths);
    if (r.ok()) w.filesystem = std::move(fs);
  }

  if (const json* n = o.get("network"); n && r.ok()) {
    WireNetwork net;
    decode_network(r, *n, "network", net);
    if (r.ok()) w.network = std::move(net);
  }

  if (const json* rc = o.get("runtimeConfig"); rc && r.ok()) {
    detail::reject_unknown(r, *rc, "runtimeConfig", {"networkProxy"});
    Object ro(r, *rc, "runtimeConfig");
    ro.opt("networkProxy", w.networkProxy);
  }

  if (const json* u = o.get("ui"); u && r.ok()) {
    detail::reject_unknown(r, *u, "ui", {"clipboard", "disable", "injection"});
    Object uo(r, *u, "ui");
    WireUi ui;
    uo.opt("clipboard", ui.clipboard, detail::OneOf{kClipboard, "clipboard policy"});
    uo.opt("disable", ui.disable);
    uo.opt("injection", ui.injection);
    if (r.ok()) w.ui = std::move(ui);
  }

  if (const json* l = o.get("lifecycle"); l && r.ok()) {
    detail::reject_unknown(r, *l, "lifecycle", {"destroyOnExit", "preservePolicy"});
    Object lo(r, *l, "lifecycle");
    lo.opt("destroyOnExit", w.destroyOnExit);
    lo.opt("preservePolicy", w.preservePolicy);
  }

  if (r.ok()) check_platform_sections(r, o, w.platform);
  if (!r.ok()) return r.error();
  return w;
}

Result<WireConfig> parse_mxc_wire(std::string_view text, std::string_view label) {
  if (text.size() > kPolicyMaxBytes) {
    return make_error(std::string(label) + ": MXC configuration is larger than 1 MiB (" +
                      std::to_string(text.size()) + " bytes)");
  }
  auto doc = detail::parse_json(text, label);
  if (!doc) return doc.error();
  return parse_mxc_wire_json(*doc, label);
}

Result<std::string> wire_backend(const WireConfig& wire, std::string_view label) {
  const std::string c = wire.containment.value_or("process");
  if (c == "process") return std::string("processcontainer");
  if (c == "bubblewrap" || c == "lxc") return c;
  return make_error(std::string(label) + ": containment: " + quote(c) +
                    " is not available on Linux (use process, bubblewrap or lxc)");
}

namespace {

// The decoded wire rules back as JSON, for spec::parse_egress's stricter checks
// (host bits, icmp ports, except inside its CIDR) and normalisation.
json egress_json(const WireEgress& e) {
  auto rules = [](const std::vector<WireRule>& in) {
    json out = json::array();
    for (const auto& r : in) {
      json rule = json::object();
      if (!r.to.empty()) {
        rule["to"] = json::array();
        for (const auto& p : r.to)
          rule["to"].push_back(json{{"cidr", p.cidr}, {"except", p.except}});
      }
      if (!r.ports.empty()) {
        rule["ports"] = json::array();
        for (const auto& p : r.ports) {
          json port{{"protocol", p.protocol}};
          if (p.port) port["port"] = *p.port;
          if (p.endPort) port["endPort"] = *p.endPort;
          rule["ports"].push_back(std::move(port));
        }
      }
      out.push_back(std::move(rule));
    }
    return out;
  };
  return json{{"default", e.default_}, {"allow", rules(e.allow)}, {"deny", rules(e.deny)}};
}

}  // namespace

Result<Policy> wire_to_policy(const WireConfig& wire, std::string_view label) {
  const std::string l(label);
  auto fail = [&](const std::string& field, const std::string& why) {
    return make_error(l + ": " + field + ": " + why);
  };
  Policy p;
  auto backend = wire_backend(wire, label);
  if (!backend) return backend.error();
  p.isolation = PolicyIsolation{"process", *backend};
  if (wire.networkProxy) {
    // MXC's cooperative mode points the agent at a proxy on the host's
    // loopback; ours is enforced: the container has its own loopback and the
    // runtime serves the proxy there (network.allowedHosts).
    return fail("runtimeConfig.networkProxy",
                "a host loopback proxy is not reachable from the container; the runtime serves "
                "its own proxy for network.allowedHosts");
  }

  if (wire.filesystem) {
    PolicyFilesystem fs;
    auto add = [](const std::vector<std::string>& in, std::vector<PathPattern>& out) {
      for (const auto& s : in) out.push_back(PathPattern{PathPattern::Kind::exact, s, s});
    };
    add(wire.filesystem->readonlyPaths, fs.allowRead);
    add(wire.filesystem->readwritePaths, fs.allowWrite);
    add(wire.filesystem->deniedPaths, fs.denyRead);
    p.filesystem = std::move(fs);
  }

  if (wire.network) {
    const WireNetwork& n = *wire.network;
    PolicyNetwork net;
    net.default_ = "allow";
    if (n.allowLocalNetwork.value_or(false)) {
      return fail("network.allowLocalNetwork", "true cannot be enforced (no inbound connections)");
    }
    if (!n.blockedHosts.empty()) {
      return fail("network.blockedHosts",
                  "a host deny list cannot be enforced; use defaultPolicy block with allowedHosts");
    }
    if (n.defaultPolicy) net.default_ = *n.defaultPolicy == "block" ? "deny" : "allow";
    for (size_t i = 0; i < n.allowedHosts.size(); ++i) {
      const std::string& h = n.allowedHosts[i];
      const std::string field = "network.allowedHosts[" + std::to_string(i) + "]";
      if (is_ip_literal(h)) {
        net.allowCidrs.push_back(h + (h.find(':') != std::string::npos ? "/128" : "/32"));
      } else if (auto e = check_domain_pattern(h); e.empty()) {
        net.allowDomains.push_back(h);
      } else {
        return fail(field, quote(h) + " " + e);
      }
    }
    if (net.default_ == "allow" && (!net.allowDomains.empty() || !net.allowCidrs.empty())) {
      return fail("network.allowedHosts",
                  "needs defaultPolicy block (with allow every host is "
                  "reachable)");
    }
    if (n.egress && (!n.egress->allow.empty() || !n.egress->deny.empty())) {
      // Direct egress rules: the container keeps its network, filtered in the kernel.
      auto egress = parse_egress(egress_json(*n.egress), label, "network.egress");
      if (!egress) return egress.error();
      net.default_ = "allow";
      net.egress = std::move(*egress);
    } else if (n.egress) {
      net.default_ = n.egress->default_;  // no rules: all or nothing
    } else if (!n.defaultPolicy && n.allowedHosts.empty()) {
      net.default_ = "deny";  // the 0.8 default: deny
    }
    if (n.ingress && n.ingress->default_.value_or("deny") == "allow") {
      return fail("network.ingress.default",
                  "allow cannot be enforced (inbound connections are not filtered)");
    }
    if (n.ingress && n.ingress->hostLoopback) {
      net.hostLoopback = n.ingress->hostLoopback;
      if (*net.hostLoopback == "allow" && net.default_ == "deny") {
        return fail("network.ingress.hostLoopback",
                    "allow needs direct egress (network.egress with default allow or rules): "
                    "without it the container has its own network, and its own loopback");
      }
    }
    if (n.proxy) {
      return fail("network.proxy", "an external proxy is not supported; the runtime runs its own");
    }
    p.network = std::move(net);
  }

  if (wire.ui) {
    if (wire.ui->clipboard && *wire.ui->clipboard != "none") {
      return fail("ui.clipboard", quote(*wire.ui->clipboard) + " needs the session tier");
    }
    if (wire.ui->injection.value_or(false)) {
      return fail("ui.injection", "true needs the session tier");
    }
    if (!wire.ui->disable.value_or(true)) {
      return fail("ui.disable", "false needs the session tier");
    }
  }

  if (wire.process.timeout && *wire.process.timeout > 0) {
    p.limits = PolicyLimits{*wire.process.timeout};
  }
  return p;
}

Result<std::string> decode_base64(std::string_view text, std::string_view label) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return make_error(std::string(label) + ": invalid base64 length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int v = value(text[i]);
    if (v < 0) {
      return make_error(std::string(label) + ": invalid base64 character at offset " +
                        std::to_string(i));
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace mxc::spec
