// The agent policy: validation of the policy object (policy.hpp).
#include "mxc/spec/policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <initializer_list>

#include "json_reader.hpp"

namespace mxc::spec {

using detail::child_path;
using detail::describe;
using detail::json;
using detail::Object;
using detail::quote;
using detail::Reader;

namespace {

void only(Reader& r, const json& j, const std::string& path,
          std::initializer_list<std::string_view> known) {
  detail::reject_unknown(r, j, path, known);
}

// ${WORKSPACE} and ${HOME}; a lone `$` is literal. Returns "" or the error.
std::string expand(std::string_view in, const PolicyContext& ctx, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size() || in[i + 1] != '{') {
      out += in[i];
      continue;
    }
    const size_t close = in.find('}', i + 2);
    if (close == std::string_view::npos) return "unterminated ${ in " + quote(in);
    const std::string_view name = in.substr(i + 2, close - i - 2);
    if (name == "WORKSPACE") {
      if (!ctx.workspace) {
        return "${WORKSPACE} is used but no workspace is given (--workspace DIR or the "
               "annotation mxc.workspace)";
      }
      out += *ctx.workspace;
    } else if (name == "HOME") {
      if (ctx.home.empty()) return "${HOME} is used but the invoking user's home is unknown";
      out += ctx.home;
    } else {
      return "unknown variable ${" + std::string(name) + "}; expected ${WORKSPACE} or ${HOME}";
    }
    i = close;
  }
  return "";
}

bool has_glob(std::string_view s) {
  return s.find_first_of("*?") != std::string_view::npos;
}

// Expands, normalises and classifies one path pattern. Returns "" or the error.
std::string make_pattern(const std::string& written, const PolicyContext& ctx, PathPattern& out) {
  if (written.find('\0') != std::string::npos) return "contains a NUL byte";
  std::string expanded;
  if (auto e = expand(written, ctx, expanded); !e.empty()) return e;
  if (expanded.empty() || expanded[0] != '/') {
    return "must be an absolute path after expansion: " + quote(expanded);
  }
  std::vector<std::string> parts;
  size_t pos = 1;
  while (pos <= expanded.size()) {
    size_t end = expanded.find('/', pos);
    if (end == std::string::npos) end = expanded.size();
    std::string part = expanded.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty()) continue;
    if (part == "." || part == "..") {
      return "must not contain a \"" + part + "\" component: " + quote(expanded);
    }
    if (part != "**" && part.find("**") != std::string::npos) {
      return "\"**\" must be a whole path component: " + quote(expanded);
    }
    parts.push_back(std::move(part));
  }
  out.written = written;
  out.kind = PathPattern::Kind::exact;
  if (!parts.empty() && parts.back() == "**") {
    parts.pop_back();
    out.kind = PathPattern::Kind::tree;
  }
  std::string path;
  for (const auto& p : parts) path += "/" + p;
  if (path.empty()) path = "/";
  if (has_glob(path)) {
    // A glob prefix with a trailing `/**` stays one glob: `**` matches below it.
    if (out.kind == PathPattern::Kind::tree) path += (path == "/" ? "**" : "/**");
    out.kind = PathPattern::Kind::glob;
  }
  out.path = std::move(path);
  return "";
}

void decode_patterns(Reader& r, const json& j, const std::string& path, const PolicyContext& ctx,
                     std::vector<PathPattern>& out) {
  if (!j.is_array()) {
    r.fail(path, "must be an array of path patterns, got " + describe(j));
    return;
  }
  for (size_t i = 0; i < j.size() && r.ok(); ++i) {
    const std::string p = detail::index_path(path, i);
    if (!j[i].is_string()) {
      r.fail(p, "must be a string, got " + describe(j[i]));
      return;
    }
    PathPattern pattern;
    if (auto e = make_pattern(j[i].get<std::string>(), ctx, pattern); !e.empty()) {
      r.fail(p, e);
      return;
    }
    out.push_back(std::move(pattern));
  }
}

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// An exact DNS name (RFC 1123 labels). Returns "" or the reason.
std::string check_name(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 253) return "is longer than 253 characters";
  if (is_ip_literal(name) || (name.front() == '[' && name.back() == ']')) {
    return "is an IP literal, not a domain (use network.allowCidrs for addresses)";
  }
  const std::string n = lower(name);
  bool all_numeric = true;
  size_t pos = 0;
  while (pos <= n.size()) {
    size_t end = n.find('.', pos);
    if (end == std::string::npos) end = n.size();
    const std::string_view label = std::string_view(n).substr(pos, end - pos);
    if (label.empty()) return "has an empty label";
    if (label.size() > 63) return "has a label longer than 63 characters";
    if (!std::all_of(label.begin(), label.end(), is_label_char)) {
      return "may contain only letters, digits, '-' and '.'";
    }
    if (label.front() == '-' || label.back() == '-') {
      return "has a label that starts or ends with '-'";
    }
    if (!std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      all_numeric = false;
    }
    pos = end + 1;
  }
  if (all_numeric) return "is an IP literal, not a domain (use network.allowCidrs for addresses)";
  return "";
}

bool parse_uint(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 3) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return out <= max && !(s.size() > 1 && s[0] == '0');
}

// A CIDR split into family, address bytes and prefix length.
struct Cidr {
  int family = 0;
  unsigned char addr[16] = {};
  unsigned prefix = 0;
  [[nodiscard]] unsigned bits() const { return family == AF_INET ? 32 : 128; }
  // Whether bit `i` (from the most significant) of the address is set.
  [[nodiscard]] bool bit(unsigned i) const { return (addr[i / 8] >> (7 - i % 8)) & 1; }
};

// Parses "addr/prefix"; returns "" or the reason.
std::string parse_cidr(std::string_view s, Cidr& out) {
  if (!is_cidr(s)) return quote(s) + " is not a CIDR (ADDRESS/PREFIX)";
  const size_t slash = s.find('/');
  const std::string addr(s.substr(0, slash));
  out.family = ::inet_pton(AF_INET, addr.c_str(), out.addr) == 1 ? AF_INET : AF_INET6;
  if (out.family == AF_INET6) ::inet_pton(AF_INET6, addr.c_str(), out.addr);
  parse_uint(s.substr(slash + 1), out.bits(), out.prefix);
  for (unsigned i = out.prefix; i < out.bits(); ++i) {
    if (out.bit(i)) {
      return quote(s) + " has host bits set (bits after /" + std::to_string(out.prefix) +
             " must be 0)";
    }
  }
  return "";
}

std::string cidr_string(const Cidr& c) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(c.family, c.addr, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(c.prefix);
}

// Whether `inner` lies within `outer` (same family).
bool cidr_within(const Cidr& inner, const Cidr& outer) {
  if (inner.family != outer.family || inner.prefix < outer.prefix) return false;
  for (unsigned i = 0; i < outer.prefix; ++i) {
    if (inner.bit(i) != outer.bit(i)) return false;
  }
  return true;
}

void decode_egress_peer(Reader& r, const json& j, const std::string& path, EgressPeer& out) {
  only(r, j, path, {"cidr", "except"});
  Object o(r, j, path);
  std::string cidr;
  std::vector<std::string> except;
  o.req("cidr", cidr);
  o.opt("except", except);
  if (!r.ok()) return;
  Cidr c;
  if (auto e = parse_cidr(cidr, c); !e.empty()) return r.fail(child_path(path, "cidr"), e);
  out.cidr = cidr_string(c);
  for (size_t i = 0; i < except.size(); ++i) {
    const std::string ep = detail::index_path(child_path(path, "except"), i);
    Cidr x;
    if (auto e = parse_cidr(except[i], x); !e.empty()) return r.fail(ep, e);
    if (x.family != c.family) {
      return r.fail(ep, quote(except[i]) + " is not of the address family of " + quote(cidr));
    }
    if (!cidr_within(x, c)) return r.fail(ep, quote(except[i]) + " is not inside " + quote(cidr));
    out.except.push_back(cidr_string(x));
  }
}

void decode_egress_port(Reader& r, const json& j, const std::string& path, EgressPort& out) {
  only(r, j, path, {"port", "endPort", "protocol"});
  Object o(r, j, path);
  static constexpr std::string_view kProtocols[] = {"tcp", "udp", "icmp", "any"};
  o.opt("protocol", out.protocol, detail::OneOf{kProtocols, "protocol"});
  o.opt("port", out.port, detail::Between{1, 65535});
  o.opt("endPort", out.endPort, detail::Between{1, 65535});
  if (!r.ok()) return;
  if (out.protocol == "icmp" && (out.port || out.endPort)) {
    return r.fail(child_path(path, out.port ? "port" : "endPort"),
                  "icmp has no ports; omit port and endPort");
  }
  if (out.endPort && !out.port) return r.fail(child_path(path, "endPort"), "needs port");
  if (out.endPort && *out.endPort < *out.port) {
    return r.fail(child_path(path, "endPort"),
                  std::to_string(*out.endPort) + " is below port " + std::to_string(*out.port));
  }
  if (out.port && !out.endPort) out.endPort = out.port;
}

// `to` and `ports`: absent or null means all; present must be a non-empty array.
template <class T, class F>
void decode_nonempty(Reader& r, Object& o, std::string_view key, std::vector<T>& out, F each) {
  const json* v = o.get(key);
  if (v == nullptr || !r.ok()) return;
  const std::string path = child_path(o.path(), key);
  if (!v->is_array()) return r.fail(path, "must be an array, got " + describe(*v));
  if (v->empty()) return r.fail(path, "must contain at least one element");
  for (size_t i = 0; i < v->size() && r.ok(); ++i) {
    T item;
    each(r, (*v)[i], detail::index_path(path, i), item);
    out.push_back(std::move(item));
  }
}

void decode_egress_rules(Reader& r, Object& o, std::string_view key, std::vector<EgressRule>& out) {
  const json* v = o.get(key);
  if (v == nullptr || !r.ok()) return;
  const std::string path = child_path(o.path(), key);
  if (!v->is_array()) return r.fail(path, "must be an array of rules, got " + describe(*v));
  for (size_t i = 0; i < v->size() && r.ok(); ++i) {
    const std::string rp = detail::index_path(path, i);
    only(r, (*v)[i], rp, {"to", "ports"});
    Object ro(r, (*v)[i], rp);
    EgressRule rule;
    decode_nonempty(r, ro, "to", rule.to, decode_egress_peer);
    decode_nonempty(r, ro, "ports", rule.ports, decode_egress_port);
    out.push_back(std::move(rule));
  }
}

void decode_egress(Reader& r, const json& j, const std::string& path, PolicyEgress& out) {
  only(r, j, path, {"default", "allow", "deny"});
  Object o(r, j, path);
  static constexpr std::string_view kDefaults[] = {"allow", "deny"};
  o.opt("default", out.default_, detail::OneOf{kDefaults, "egress default"});
  decode_egress_rules(r, o, "allow", out.allow);
  decode_egress_rules(r, o, "deny", out.deny);
}

void decode_network(Reader& r, const json& j, const std::string& path, PolicyNetwork& out) {
  only(r, j, path, {"default", "allowDomains", "hosts", "allowCidrs", "egress", "hostLoopback"});
  Object o(r, j, path);
  static constexpr std::string_view kDefaults[] = {"allow", "deny"};
  o.opt("hostLoopback", out.hostLoopback, detail::OneOf{kDefaults, "hostLoopback action"});
  if (const json* e = o.get("egress"); e != nullptr && r.ok()) {
    const std::string ep = child_path(path, "egress");
    PolicyEgress egress;
    decode_egress(r, *e, ep, egress);
    o.opt("default", out.default_, detail::OneOf{kDefaults, "network default"});
    if (!r.ok()) return;
    // Direct egress keeps the container's own network; the proxy-only network
    // (default deny, allowDomains, allowCidrs, hosts) gives it none. Pick one.
    for (const char* proxy_field : {"allowDomains", "allowCidrs", "hosts"}) {
      if (o.get(proxy_field) != nullptr) {
        return r.fail(ep, std::string("cannot be combined with network.") + proxy_field +
                              ": direct egress rules and the proxy-only network exclude each "
                              "other; pick one");
      }
    }
    if (out.default_ == "deny") {
      return r.fail(ep,
                    "cannot be combined with network.default: deny (a network with no route "
                    "out); for direct egress omit network.default or set it to allow, and use "
                    "egress.default");
    }
    out.default_ = "allow";
    out.egress = std::move(egress);
    return;
  }
  o.req("default", out.default_, detail::OneOf{kDefaults, "network default"});
  o.opt("allowDomains", out.allowDomains);
  for (size_t i = 0; i < out.allowDomains.size() && r.ok(); ++i) {
    if (auto e = check_domain_pattern(out.allowDomains[i]); !e.empty()) {
      r.fail(detail::index_path(child_path(path, "allowDomains"), i),
             quote(out.allowDomains[i]) + " " + e);
    }
    out.allowDomains[i] = lower(out.allowDomains[i]);
  }
  if (const json* hosts = o.get("hosts"); hosts != nullptr && r.ok()) {
    const std::string hp = detail::child_path(path, "hosts");
    if (!hosts->is_object()) {
      r.fail(hp, "must be an object mapping names to address lists, got " + describe(*hosts));
      return;
    }
    for (auto it = hosts->begin(); it != hosts->end() && r.ok(); ++it) {
      const std::string np = detail::child_path(hp, it.key());
      if (auto e = check_name(it.key()); !e.empty()) {
        r.fail(np, "host name " + quote(it.key()) + " " + e);
        return;
      }
      std::vector<std::string> addrs;
      detail::decode(r, it.value(), np, addrs);
      if (r.ok() && addrs.empty()) r.fail(np, "must contain at least one address");
      for (size_t i = 0; i < addrs.size() && r.ok(); ++i) {
        if (!is_ip_literal(addrs[i])) {
          r.fail(detail::index_path(np, i), quote(addrs[i]) + " is not an IPv4 or IPv6 address");
        }
      }
      out.hosts[lower(it.key())] = std::move(addrs);
    }
  }
  o.opt("allowCidrs", out.allowCidrs);
  for (size_t i = 0; i < out.allowCidrs.size() && r.ok(); ++i) {
    if (!is_cidr(out.allowCidrs[i])) {
      r.fail(detail::index_path(child_path(path, "allowCidrs"), i),
             quote(out.allowCidrs[i]) + " is not a CIDR (ADDRESS/PREFIX)");
    }
  }
}

}  // namespace

std::string check_domain_pattern(std::string_view pattern) {
  if (pattern.substr(0, 2) == "*.") {
    if (auto e = check_name(pattern.substr(2)); !e.empty()) return e;
    return "";
  }
  if (pattern.find('*') != std::string_view::npos) {
    return "has a '*' that is not a leading \"*.\" wildcard";
  }
  return check_name(pattern);
}

bool domain_allowed(const std::vector<std::string>& patterns, std::string_view host) {
  std::string h = lower(host);
  if (!h.empty() && h.back() == '.') h.pop_back();  // the absolute form of the same name
  for (const auto& p : patterns) {
    if (p.substr(0, 2) == "*.") {
      const std::string_view suffix = std::string_view(p).substr(1);  // ".x.y"
      if (h.size() > suffix.size() &&
          h.compare(h.size() - suffix.size(), suffix.size(), suffix.data(), suffix.size()) == 0) {
        return true;
      }
    } else if (h == p) {
      return true;
    }
  }
  return false;
}

bool is_ip_literal(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  const std::string str(s);
  unsigned char buf[16];
  return ::inet_pton(AF_INET, str.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

bool is_cidr(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string addr(s.substr(0, slash));
  unsigned char buf[16];
  unsigned bits = 0;
  if (::inet_pton(AF_INET, addr.c_str(), buf) == 1)
    bits = 32;
  else if (::inet_pton(AF_INET6, addr.c_str(), buf) == 1)
    bits = 128;
  else
    return false;
  unsigned prefix = 0;
  return parse_uint(s.substr(slash + 1), bits, prefix);
}

Result<PolicyEgress> parse_egress(const json& j, std::string_view label, std::string_view path) {
  Reader r(label);
  PolicyEgress out;
  decode_egress(r, j, std::string(path), out);
  if (!r.ok()) return r.error();
  return out;
}

json egress_to_json(const PolicyEgress& egress) {
  auto rules = [](const std::vector<EgressRule>& in) {
    json out = json::array();
    for (const auto& rule : in) {
      json to = json::array();
      for (const auto& p : rule.to) to.push_back(json{{"cidr", p.cidr}, {"except", p.except}});
      json ports = json::array();
      for (const auto& p : rule.ports) {
        json port{{"protocol", p.protocol}};
        if (p.port) port["port"] = *p.port;
        if (p.endPort) port["endPort"] = *p.endPort;
        ports.push_back(std::move(port));
      }
      // Absent, not empty: an empty list is refused when read back.
      json r = json::object();
      if (!to.empty()) r["to"] = std::move(to);
      if (!ports.empty()) r["ports"] = std::move(ports);
      out.push_back(std::move(r));
    }
    return out;
  };
  return json{
      {"default", egress.default_}, {"allow", rules(egress.allow)}, {"deny", rules(egress.deny)}};
}

Result<Policy> parse_policy(const json& j, const PolicyContext& context, std::string_view label,
                            std::string_view root) {
  Reader r(label);
  const std::string base(root);
  auto at = [&](std::string_view key) { return detail::child_path(base, key); };
  Policy p;
  if (!j.is_object()) {
    r.fail(base, "must be an object, got " + describe(j));
    return r.error();
  }
  only(r, j, base,
       {"schemaVersion", "agent", "isolation", "filesystem", "network", "desktop", "limits"});
  Object o(r, j, base);

  o.opt("schemaVersion", p.schemaVersion);
  if (r.ok() && p.schemaVersion) {
    const std::string& v = *p.schemaVersion;
    if (!(v == "1" || (v.size() > 2 && v.substr(0, 2) == "1." &&
                       std::all_of(v.begin() + 2, v.end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; })))) {
      r.fail(at("schemaVersion"), "unsupported version " + quote(v) + "; expected 1.x");
    }
  }

  if (const json* a = o.get("agent"); a && r.ok()) {
    const std::string path = at("agent");
    only(r, *a, path, {"name", "identity"});
    Object ao(r, *a, path);
    PolicyAgent agent;
    ao.req("name", agent.name);
    if (r.ok() && agent.name.empty()) r.fail(child_path(path, "name"), "must not be empty");
    ao.req("identity", agent.identity);
    if (r.ok()) {
      Object io(r, agent.identity, child_path(path, "identity"));
      std::string provider;
      io.req("provider", provider);
      if (r.ok() && provider.empty()) {
        r.fail(child_path(path, "identity.provider"), "must not be empty");
      }
    }
    if (r.ok()) p.agent = std::move(agent);
  }

  if (const json* i = o.get("isolation"); i && r.ok()) {
    const std::string path = at("isolation");
    only(r, *i, path, {"tier", "backend"});
    Object io(r, *i, path);
    PolicyIsolation iso;
    static constexpr std::string_view kTiers[] = {"process", "session", "micro-vm"};
    io.opt("tier", iso.tier, detail::OneOf{kTiers, "isolation tier"});
    io.opt("backend", iso.backend);
    if (r.ok() && iso.backend && iso.backend->empty()) {
      r.fail(child_path(path, "backend"), "must not be empty");
    }
    if (r.ok()) p.isolation = std::move(iso);
  }

  if (const json* f = o.get("filesystem"); f && r.ok()) {
    const std::string path = at("filesystem");
    only(r, *f, path, {"allowRead", "allowWrite", "denyRead"});
    Object fo(r, *f, path);
    PolicyFilesystem fs;
    if (fo.valid()) {
      if (const json* v = fo.get("allowRead")) {
        decode_patterns(r, *v, child_path(path, "allowRead"), context, fs.allowRead);
      }
      if (const json* v = fo.get("allowWrite"); v && r.ok()) {
        decode_patterns(r, *v, child_path(path, "allowWrite"), context, fs.allowWrite);
      }
      if (const json* v = fo.get("denyRead"); v && r.ok()) {
        decode_patterns(r, *v, child_path(path, "denyRead"), context, fs.denyRead);
      }
    }
    if (r.ok()) p.filesystem = std::move(fs);
  }

  if (const json* n = o.get("network"); n && r.ok()) {
    PolicyNetwork net;
    decode_network(r, *n, at("network"), net);
    if (r.ok()) p.network = std::move(net);
  }

  if (const json* d = o.get("desktop"); d && r.ok()) {
    const std::string path = at("desktop");
    only(r, *d, path, {"shareClipboard", "shareInput", "display"});
    Object dobj(r, *d, path);
    PolicyDesktop desk;
    dobj.opt("shareClipboard", desk.shareClipboard);
    dobj.opt("shareInput", desk.shareInput);
    static constexpr std::string_view kDisplay[] = {"deny", "allow"};
    dobj.opt("display", desk.display, detail::OneOf{kDisplay, "display access"});
    if (r.ok()) p.desktop = desk;
  }

  if (const json* l = o.get("limits"); l && r.ok()) {
    const std::string path = at("limits");
    only(r, *l, path, {"timeoutMs"});
    Object lo(r, *l, path);
    PolicyLimits lim;
    lo.opt("timeoutMs", lim.timeoutMs);
    if (r.ok() && lim.timeoutMs && *lim.timeoutMs == 0) {
      r.fail(child_path(path, "timeoutMs"), "must be greater than 0");
    }
    if (r.ok()) p.limits = lim;
  }

  if (!r.ok()) return r.error();
  return p;
}

Result<Policy> parse_policy_text(std::string_view text, const PolicyContext& context,
                                 std::string_view label, std::string_view root) {
  auto doc = policy_document_to_json(text, label);
  if (!doc) return doc.error();
  return parse_policy(*doc, context, label, root);
}

}  // namespace mxc::spec
