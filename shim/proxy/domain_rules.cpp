#include "mxc/proxy/domain_rules.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

namespace mxc::proxy {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "0x1f" style labels: inet_aton() would read them as numbers.
bool hex_number(std::string_view s) {
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  return std::all_of(s.begin() + 2, s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

Result<std::vector<std::string>> string_array(const nlohmann::json& j, const std::string& field) {
  if (!j.is_array()) return make_error(field + ": must be an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) {
      return make_error(field + "[" + std::to_string(i) + "]: must be a string");
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

}  // namespace

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    // ::ffff:a.b.c.d is the IPv4 host a.b.c.d: match and connect it as IPv4.
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
    return a;
  }
  a.v6 = true;
  return a;
}

bool Cidr::contains(const IpAddress& a) const {
  if (a.v6 != network.v6) return false;
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.bytes.data(), network.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (network.bytes[full] & mask);
}

Result<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return make_error("\"" + std::string(text) + "\" is not an address or CIDR");
  Cidr c{*addr, addr->v6 ? 128u : 32u};
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    if (!all_digits(p) || p.size() > 3 || std::stoul(std::string(p)) > c.prefix) {
      return make_error("\"" + std::string(text) + "\" has an invalid prefix length");
    }
    c.prefix = static_cast<unsigned>(std::stoul(std::string(p)));
  }
  for (unsigned bit = c.prefix; bit < (c.network.v6 ? 128u : 32u); ++bit) {
    if (c.network.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return make_error("\"" + std::string(text) + "\" has host bits set after the prefix");
    }
  }
  return c;
}

std::optional<std::string> normalize_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return std::nullopt;
  std::string out;
  out.reserve(host.size());
  size_t label = 0;
  for (char c : host) {
    c = lower(c);
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (++label > 63) return std::nullopt;
    } else {
      return std::nullopt;
    }
    out.push_back(c);
  }
  if (label == 0) return std::nullopt;
  std::string_view last(out);
  if (auto dot = last.rfind('.'); dot != std::string_view::npos) last = last.substr(dot + 1);
  if (all_digits(last) || hex_number(last)) return std::nullopt;
  return out;
}

bool domain_matches(std::string_view pattern, std::string_view name) {
  if (pattern.starts_with("*.")) {
    auto suffix = pattern.substr(1);  // ".example.com"
    return name.size() > suffix.size() && name.ends_with(suffix);
  }
  return pattern == name;
}

Result<Rules> parse_rules(const nlohmann::json& j) {
  const std::string base = "network";
  if (!j.is_object()) return make_error(base + ": must be an object");
  Rules r;
  for (const auto& [key, value] : j.items()) {
    const std::string field = base + "." + key;
    if (key == "allowDomains") {
      auto list = string_array(value, field);
      if (!list) return list.error();
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string& d = (*list)[i];
        const std::string at = field + "[" + std::to_string(i) + "]";
        bool wild = d.starts_with("*.");
        auto n = normalize_name(wild ? std::string_view(d).substr(2) : std::string_view(d));
        if (!n) {
          if (parse_ip(d)) return make_error(at + ": \"" + d + "\" is an address: use allowCidrs");
          return make_error(at + ": \"" + d + "\" is not a domain name or a \"*.\" wildcard");
        }
        r.allow_domains.push_back(wild ? "*." + *n : *n);
      }
    } else if (key == "allowCidrs") {
      auto list = string_array(value, field);
      if (!list) return list.error();
      for (size_t i = 0; i < list->size(); ++i) {
        auto c = parse_cidr((*list)[i]);
        if (!c) return c.error().context(field + "[" + std::to_string(i) + "]");
        r.allow_cidrs.push_back((*list)[i]);
      }
    } else if (key == "hosts") {
      if (!value.is_object()) return make_error(field + ": must be an object of name: addresses");
      for (const auto& [name, addrs] : value.items()) {
        const std::string at = field + "." + name;
        auto n = normalize_name(name);
        if (!n) return make_error(at + ": \"" + name + "\" is not a domain name");
        std::vector<std::string> list;
        if (addrs.is_string()) {
          list.push_back(addrs.get<std::string>());
        } else {
          auto l = string_array(addrs, at);
          if (!l) return l.error();
          list = std::move(*l);
        }
        if (list.empty()) return make_error(at + ": needs at least one address");
        for (const auto& a : list) {
          if (!parse_ip(a)) return make_error(at + ": \"" + a + "\" is not an IP address");
        }
        auto& slot = r.hosts[*n];
        slot.insert(slot.end(), list.begin(), list.end());
      }
    } else {
      return make_error(field + ": unknown field (expected allowDomains, hosts, allowCidrs)");
    }
  }
  return r;
}

Result<DomainRules> DomainRules::compile(const Rules& rules) {
  DomainRules d;
  for (size_t i = 0; i < rules.allow_domains.size(); ++i) {
    const auto& p = rules.allow_domains[i];
    bool wild = p.starts_with("*.");
    auto n = normalize_name(wild ? std::string_view(p).substr(2) : std::string_view(p));
    if (!n) {
      return make_error("network.allowDomains[" + std::to_string(i) + "]: \"" + p +
                        "\" is not a domain name or a \"*.\" wildcard");
    }
    d.domains_.push_back(wild ? "*." + *n : *n);
  }
  for (const auto& [name, addrs] : rules.hosts) {
    auto n = normalize_name(name);
    if (!n) return make_error("network.hosts." + name + ": not a domain name");
    auto& slot = d.hosts_[*n];
    for (const auto& a : addrs) {
      auto ip = parse_ip(a);
      if (!ip) return make_error("network.hosts." + name + ": \"" + a + "\" is not an IP address");
      slot.push_back(*ip);
    }
  }
  for (size_t i = 0; i < rules.allow_cidrs.size(); ++i) {
    auto c = parse_cidr(rules.allow_cidrs[i]);
    if (!c) return c.error().context("network.allowCidrs[" + std::to_string(i) + "]");
    d.cidrs_.push_back(*c);
    d.cidr_texts_.push_back(rules.allow_cidrs[i]);
  }
  return d;
}

Verdict DomainRules::check(std::string_view host) const {
  Verdict v;
  if (auto ip = parse_ip(host)) {
    v.address = ip;
    v.host = ip->to_string();
    for (size_t i = 0; i < cidrs_.size(); ++i) {
      if (cidrs_[i].contains(*ip)) {
        v.kind = Verdict::Kind::allowed;
        v.reason = "network.allowCidrs: " + cidr_texts_[i];
        return v;
      }
    }
    v.reason = v.host + " is an IP address not in network.allowCidrs";
    return v;
  }
  auto name = normalize_name(host);
  if (!name) {
    v.kind = Verdict::Kind::malformed;
    v.host = std::string(host);
    v.reason = "\"" + v.host + "\" is not a valid host name";
    return v;
  }
  v.host = *name;
  for (const auto& p : domains_) {
    if (domain_matches(p, *name)) {
      v.kind = Verdict::Kind::allowed;
      v.reason = "network.allowDomains: " + p;
      return v;
    }
  }
  v.reason = v.host + " is not in network.allowDomains";
  return v;
}

const std::vector<IpAddress>* DomainRules::hosts_entry(const std::string& name) const {
  auto it = hosts_.find(name);
  return it == hosts_.end() ? nullptr : &it->second;
}

}  // namespace mxc::proxy
