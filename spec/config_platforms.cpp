// Schema checks for the non-Linux sections of config.json (config-solaris,
// -windows, -vm, -zos, -freebsd). This runtime never uses them, but a document
// the schema refuses must be refused whatever section is at fault.
#include <cstdint>
#include <vector>

#include "config_decode.hpp"

namespace mxc::spec::detail {

namespace {

using Strings = std::vector<std::string>;

// Runs `body(Object&)` on key `key` of `parent` when present.
template <class Body>
void section(Object& parent, std::string_view key, bool required, Body body) {
  const json* j = parent.get(key);
  if (j == nullptr) {
    if (required) parent.reader().fail(child_path(parent.path(), key), "required field is missing");
    return;
  }
  Object o(parent.reader(), *j, child_path(parent.path(), key));
  if (o.valid()) body(o);
}

// Runs `body(Object&)` on every element of array `key`.
template <class Body>
void each_object(Object& parent, std::string_view key, Body body) {
  const json* j = parent.get(key);
  if (j == nullptr) return;
  const std::string path = child_path(parent.path(), key);
  if (!j->is_array()) {
    parent.reader().fail(path, "must be an array, got " + describe(*j));
    return;
  }
  for (size_t i = 0; i < j->size() && parent.reader().ok(); ++i) {
    Object o(parent.reader(), (*j)[i], index_path(path, i));
    if (o.valid()) body(o);
  }
}

void check_solaris(Object& s) {
  for (auto key : {"milestone", "limitpriv", "maxShmMemory"}) s.check<std::string>(key);
  section(s, "cappedCPU", false, [](Object& o) { o.check<std::string>("ncpus"); });
  section(s, "cappedMemory", false, [](Object& o) {
    o.check<std::string>("physical");
    o.check<std::string>("swap");
  });
  each_object(s, "anet", [](Object& o) {
    for (auto key : {"linkname", "lowerLink", "allowedAddress", "configureAllowedAddress",
                     "defrouter", "macAddress", "linkProtection"}) {
      o.check<std::string>(key);
    }
  });
}

void check_windows(Object& w) {
  w.check_req<Strings>("layerFolders", NonEmpty{});
  each_object(w, "devices", [](Object& o) {
    o.check_req<std::string>("id");
    o.check_req<std::string>("idType", OneOf{kWindowsDeviceIdTypes, "device id type"});
  });
  section(w, "resources", false, [](Object& res) {
    section(res, "memory", false, [](Object& o) { o.check<uint64_t>("limit"); });
    section(res, "cpu", false, [](Object& o) {
      o.check<uint64_t>("count");
      o.check<uint16_t>("shares");
      o.check<uint16_t>("maximum");
      section(o, "affinity", false, [](Object& a) {
        a.check<uint64_t>("mask");
        a.check<uint32_t>("group");
      });
    });
    section(res, "storage", false, [](Object& o) {
      o.check<uint64_t>("iops");
      o.check<uint64_t>("bps");
      o.check<uint64_t>("sandboxSize");
    });
  });
  section(w, "network", false, [](Object& o) {
    o.check<Strings>("endpointList");
    o.check<bool>("allowUnqualifiedDNSQuery");
    o.check<Strings>("DNSSearchList");
    o.check<std::string>("networkSharedContainerName");
    o.check<std::string>("networkNamespace");
  });
  w.check<json>("credentialSpec");
  w.check<bool>("servicing");
  w.check<bool>("ignoreFlushesDuringBoot");
  section(w, "hyperv", false, [](Object& o) { o.check<std::string>("utilityVMPath"); });
}

void check_vm(Object& vm) {
  section(vm, "hypervisor", false, [](Object& o) {
    o.check_req<std::string>("path");
    o.check<Strings>("parameters");
  });
  section(vm, "kernel", true, [](Object& o) {
    o.check_req<std::string>("path");
    o.check<Strings>("parameters");
    o.check<std::string>("initrd");
  });
  section(vm, "image", false, [](Object& o) {
    o.check_req<std::string>("path");
    o.check_req<std::string>("format", OneOf{kVmImageFormats, "image format"});
  });
  section(vm, "hwConfig", false, [](Object& o) {
    o.check<std::string>("deviceTree");
    o.check<uint32_t>("vcpus");
    o.check<uint64_t>("memory");
    o.check<Strings>("dtdevs");
    each_object(o, "iomems", [](Object& m) {
      m.check<uint64_t>("firstGFN");
      m.check_req<uint64_t>("firstMFN");
      m.check_req<uint64_t>("nrMFNs");
    });
    o.check<std::vector<uint32_t>>("irqs");
  });
}

void check_zos(Object& z) {
  each_object(z, "namespaces", [](Object& o) {
    o.check_req<std::string>("type", OneOf{kZosNamespaceTypes, "namespace type"});
    o.check<std::string>("path");
  });
}

void check_freebsd(Object& f) {
  each_object(f, "devices", [](Object& o) {
    o.check<std::string>("path");
    o.check<uint32_t>("mode", Between{0, 0777});
  });
  section(f, "jail", false, [](Object& jail) {
    const OneOf sharing{kFreebsdSharingModes, "sharing mode"};
    const OneOf sharing_no_disable{kFreebsdSharingModesNoDisable, "sharing mode"};
    jail.check<std::string>("parent");
    jail.check<std::string>("host", sharing_no_disable);
    jail.check<std::string>("ip4", sharing);
    jail.check<Strings>("ip4Addr");
    jail.check<std::string>("ip6", sharing);
    jail.check<Strings>("ip6Addr");
    jail.check<std::string>("vnet", sharing_no_disable);
    jail.check<std::string>("interface");
    jail.check<Strings>("vnetInterfaces");
    jail.check<std::string>("sysvmsg", sharing);
    jail.check<std::string>("sysvsem", sharing);
    jail.check<std::string>("sysvshm", sharing);
    jail.check<uint8_t>("enforceStatfs");
    section(jail, "allow", false, [](Object& a) {
      for (auto key : {"setHostname", "rawSockets", "chflags", "quotas", "socketAf", "mlock",
                       "reservedPorts", "suser"}) {
        a.check<bool>(key);
      }
      a.check<Strings>("mount");
    });
  });
}

}  // namespace

void check_other_platforms(Object& config) {
  section(config, "solaris", false, check_solaris);
  section(config, "windows", false, check_windows);
  section(config, "vm", false, check_vm);
  section(config, "zos", false, check_zos);
  section(config, "freebsd", false, check_freebsd);
}

}  // namespace mxc::spec::detail
