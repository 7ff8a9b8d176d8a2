# Bad inputs: evaluating `result` must fail, and the error must contain `expect`, which names
# the attribute at fault (run.sh checks both).
let
  inherit (import ../default.nix) mkManifest fromTest;

  node = name: extra: {
    startScript = "/nix/store/00000000000000000000000000000000-nixos-vm/bin/run-${name}-vm";
    vlans = [ 1 ];
  } // extra;

  cluster = overrides: {
    ctrl = node "ctrl" {
      role = "controller";
      ip = "192.168.1.1";
    };
    wrkr1 = node "wrkr1" {
      role = "worker";
      ip = "192.168.1.2";
    };
  } // overrides;

  k0s = {
    airgap.images = [ "docker.io/vmtest/echo:1" ];
    workload.image = "docker.io/vmtest/echo:1";
  };

  # 65 characters: one more than a machine name may have.
  long65 = builtins.concatStringsSep "" (builtins.genList (_: "n") 65);

  bad = expect: input: {
    inherit expect;
    result = mkManifest input;
  };
in
{
  values-not-attrs = bad "values: expected an attribute set of named values, got a list" {
    nodes.m = node "m" { };
    values = [ 1 ];
  };
  allow-reboot-not-bool = bad "nodes.m.allowReboot: expected a boolean, got a string" {
    nodes.m = node "m" { allowReboot = "yes"; };
  };
  values-function = bad "values.hook: a function cannot become a JSON value" {
    nodes.m = node "m" { };
    values.hook = x: x;
  };
  values-nested-function = bad "values.a.b[1]: a function cannot become a JSON value" {
    nodes.m = node "m" { };
    values.a.b = [
      1
      (x: x)
    ];
  };
  values-bad-name = bad "values.1st: not a usable value name" {
    nodes.m = node "m" { };
    values."1st" = 1;
  };
  image-latest = {
    expect = "vmtest images: images[0]: \"acme/web:latest\" needs a fixed tag";
    result = import ../images.nix [
      {
        name = "stream-web";
        imageName = "acme/web";
        imageTag = "latest";
      }
    ];
  };
  image-no-ref = {
    expect = "vmtest images: images[0]: no ref";
    result = import ../images.nix [ { archive = "/nix/store/99999999999999999999999999999999-x.tar"; } ];
  };
  unknown-top-level = bad "node: unknown attribute (known: nodes," { node = { }; };
  not-an-attrset = bad "input: expected an attribute set, got a list" [ ];
  no-nodes = bad "nodes: missing" { };
  empty-nodes = bad "nodes: no machines" { nodes = { }; };
  bad-name = bad "nodes.-x: not a usable machine name" { nodes."-x" = node "x" { }; };
  no-start-script = bad "nodes.wrkr1.startScript: missing" {
    nodes = cluster { wrkr1 = { role = "worker"; ip = "192.168.1.2"; }; };
    inherit k0s;
  };
  start-script-not-string = bad "nodes.ctrl.startScript: expected a non-empty string, got an integer 3" {
    nodes.ctrl.startScript = 3;
  };
  typo-in-node = bad "nodes.ctrl.startscript: unknown attribute" {
    nodes.ctrl.startscript = "/run-ctrl-vm";
  };
  vlan-out-of-range = bad "nodes.m.vlans[1]: expected an integer from 1 to 255, got an integer 256" {
    nodes.m = node "m" { vlans = [ 1 256 ]; };
  };
  vlan-not-listed = bad "nodes.m.vlans: VLAN 2 is not in vlans [1]" {
    nodes.m = node "m" { vlans = [ 2 ]; };
    vlans = [ 1 ];
  };
  duplicate-vlan = bad "vlans: 1 appears twice" {
    nodes.m = node "m" { };
    vlans = [ 1 1 ];
  };
  timeout-as-string = bad "globalTimeout: expected a number of seconds > 0, got a string \"3600\"" {
    nodes.m = node "m" { };
    globalTimeout = "3600";
  };
  role-without-k0s = bad "nodes.ctrl.role: set, but there is no k0s section" { nodes = cluster { }; };
  bad-role = bad "nodes.wrkr1.role: expected one of \"controller\", \"controller+worker\", \"worker\", \"single\", got a string \"master\"" {
    nodes = cluster { wrkr1 = node "wrkr1" { role = "master"; ip = "192.168.1.2"; }; };
    inherit k0s;
  };
  no-controller = bad "k0s: no controller" {
    nodes = cluster { ctrl = node "ctrl" { role = "worker"; ip = "192.168.1.1"; }; };
    inherit k0s;
  };
  no-k0s-nodes = bad "k0s: no k0s nodes" {
    nodes.m = node "m" { };
    inherit k0s;
  };
  ip-without-role = bad "nodes.wrkr1.role: missing" {
    nodes = cluster { wrkr1 = node "wrkr1" { ip = "192.168.1.2"; }; };
    inherit k0s;
  };
  role-without-ip = bad "nodes.wrkr1.ip: missing" {
    nodes = cluster { wrkr1 = node "wrkr1" { role = "worker"; }; };
    inherit k0s;
  };
  ip-not-on-vlan = bad "nodes.wrkr1.ip: \"192.168.2.2\" is not on VLAN 1" {
    nodes = cluster { wrkr1 = node "wrkr1" { role = "worker"; ip = "192.168.2.2"; }; };
    inherit k0s;
  };
  ip-not-an-address = bad "nodes.wrkr1.ip: expected an IPv4 address, got a string \"192.168.1.300\"" {
    nodes = cluster { wrkr1 = node "wrkr1" { role = "worker"; ip = "192.168.1.300"; }; };
    inherit k0s;
  };
  node-off-the-k0s-vlan = bad "nodes.wrkr1.vlans: the node is not on the k0s VLAN 1" {
    nodes = cluster { wrkr1 = node "wrkr1" { role = "worker"; ip = "192.168.1.2"; vlans = [ 2 ]; }; };
    inherit k0s;
  };
  duplicate-ip = bad "nodes.wrkr1.ip: \"192.168.1.1\" is also the address of ctrl" {
    nodes = cluster { wrkr1 = node "wrkr1" { role = "worker"; ip = "192.168.1.1"; }; };
    inherit k0s;
  };
  single-with-others = bad "nodes.ctrl.role: \"single\" is a whole cluster on one node" {
    nodes = cluster { ctrl = node "ctrl" { role = "single"; ip = "192.168.1.1"; }; };
    inherit k0s;
  };
  k0s-vlan-not-listed = bad "k0s.vlan: VLAN 2 is not in vlans [1]" {
    nodes = cluster { };
    k0s = k0s // { vlan = 2; };
  };
  k0s-typo = bad "k0s.tokenfile: unknown attribute" {
    nodes = cluster { };
    k0s = k0s // { tokenfile = "/etc/k0s/k0stoken"; };
  };
  token-file-relative = bad "k0s.tokenFile: expected an absolute path" {
    nodes = cluster { };
    k0s = k0s // { tokenFile = "k0stoken"; };
  };
  bundle-with-slash = bad "k0s.airgap.bundles[0]: \"images/a.tar\" is not a file name" {
    nodes = cluster { };
    k0s = k0s // { airgap = k0s.airgap // { bundles = [ "images/a.tar" ]; }; };
  };
  untagged-image = bad "k0s.airgap.images[1]: \"docker.io/library/busybox\" has no tag" {
    nodes = cluster { };
    k0s = k0s // { airgap.images = [ "docker.io/vmtest/echo:1" "docker.io/library/busybox" ]; };
  };
  latest-image = bad "k0s.airgap.images[1]: \"busybox:latest\" uses the tag latest" {
    nodes = cluster { };
    k0s = k0s // { airgap.images = [ "docker.io/vmtest/echo:1" "busybox:latest" ]; };
  };
  bad-pull-policy = bad "k0s.airgap.pullPolicy: expected one of \"Never\", \"IfNotPresent\", \"Always\"" {
    nodes = cluster { };
    k0s = k0s // { airgap = k0s.airgap // { pullPolicy = "never"; }; };
  };
  workload-image-not-bundled = bad "k0s.workload.image: \"docker.io/vmtest/other:1\" is not in k0s.airgap.images" {
    nodes = cluster { };
    k0s = k0s // { workload.image = "docker.io/vmtest/other:1"; };
  };
  workload-without-image = bad "k0s.workload.image: missing" {
    nodes = cluster { };
    k0s = k0s // { workload.port = 8080; };
  };
  workload-without-workers = bad "k0s.workload: no worker-side node" {
    nodes = cluster { wrkr1 = node "wrkr1" { }; };
    inherit k0s;
  };
  node-port-out-of-range = bad "k0s.workload.nodePort: expected an integer from 30000 to 32767, got an integer 8080" {
    nodes = cluster { };
    k0s = k0s // { workload = k0s.workload // { nodePort = 8080; }; };
  };
  bad-namespace = bad "k0s.workload.namespace: \"Vmtest\" is not a Kubernetes namespace name" {
    nodes = cluster { };
    k0s = k0s // { workload = k0s.workload // { namespace = "Vmtest"; }; };
  };
  # The ranges the C++ side enforces (suites/k0s/src/config.cpp, fixtures/manifest/src/manifest.cpp).
  replicas-above-cpp-limit = bad "k0s.workload.replicas: expected an integer from 1 to 100, got an integer 101" {
    nodes = cluster { };
    k0s = k0s // { workload = k0s.workload // { replicas = 101; }; };
  };
  replicas-zero = bad "k0s.workload.replicas: expected an integer from 1 to 100, got an integer 0" {
    nodes = cluster { };
    k0s = k0s // { workload = k0s.workload // { replicas = 0; }; };
  };
  name-too-long = bad "nodes.${long65}: machine names have at most 64 characters, this one has 65" {
    nodes.${long65} = node long65 { };
  };
  negative-timeout = bad "k0s.timeouts.nodeReady: expected a number of seconds > 0, got an integer -1" {
    nodes = cluster { };
    k0s = k0s // { timeouts.nodeReady = -1; };
  };

  # from-test.nix: a k0s-nix pin from before the unit rename cannot give one k0s.unit.
  old-unit-name = {
    expect = "node ctrl has no systemd unit k0s";
    result = fromTest {
      config = {
        globalTimeout = 3600;
        nodes.ctrl = {
          system.build.vm = {
            outPath = "/nix/store/00000000000000000000000000000000-nixos-vm";
            meta.mainProgram = "run-ctrl-vm";
          };
          virtualisation = {
            vlans = [ 1 ];
            interfaces = { };
          };
          networking.primaryIPAddress = "192.168.1.1";
          services.k0s = {
            enable = true;
            role = "single";
            dataDir = "/var/lib/k0s";
            tokenFile = "/etc/k0s/k0stoken";
          };
          systemd.services.k0scontroller = { };
        };
      };
    };
  };
}
