# fromTest: the manifest of an evaluated NixOS test (nixpkgs' `runNixOSTest`/`evalTest` config).
#
# Reads only public, long-lived test and NixOS options: `nodes`, `globalTimeout`,
# `system.build.vm` (+ its meta.mainProgram, as lib.getExe does), `virtualisation.vlans`,
# `virtualisation.interfaces.*.vlan`, `networking.primaryIPAddress`, and from k0s-nix
# `services.k0s.{enable,role,dataDir,tokenFile}` and the unit name in `systemd.services`.
# Builtins only as well, so the tests feed it a fake config (nix/lib/tests/cases.nix).
#
#   config: the test's config (`(pkgs.testers.runNixOSTest m).config`, or its `.interactive`).
#   k0s:    the k0s section's settings that no node option holds (nix/tests/k0s-settings.nix
#           `.k0s`); unit, tokenFile, airgap.bundleDir and airgap.bundles are read from the
#           nodes unless given here.
#   values: the manifest's values (mkManifest's `values`), passed through.
{
  config,
  k0s ? null,
  values ? { },
}:
let
  inherit (builtins)
    attrNames
    attrValues
    elem
    filter
    head
    mapAttrs
    ;
  mkManifest = import ./manifest.nix;

  fail = msg: throw "vmtest manifest (from the NixOS test): ${msg}";

  nodes = config.nodes;
  names = attrNames nodes;

  isK0s = n: n.services.k0s.enable or false;
  k0sNames = filter (name: isK0s nodes.${name}) names;
  workerSideNames = filter (
    name:
    elem nodes.${name}.services.k0s.role [
      "worker"
      "controller+worker"
      "single"
    ]
  ) k0sNames;

  # lib.getExe without lib: the VM's own `bin/run-<system.name>-vm`.
  startScript =
    vm:
    "${vm}/bin/${vm.meta.mainProgram or (fail "system.build.vm has no meta.mainProgram; is this nixpkgs' qemu-vm.nix?")}";

  nodeInput =
    name: n:
    {
      startScript = startScript n.system.build.vm;
      vlans = n.virtualisation.vlans ++ map (i: i.vlan) (attrValues n.virtualisation.interfaces);
    }
    // (
      if isK0s n then
        {
          inherit (n.services.k0s) role;
          ip = n.networking.primaryIPAddress;
        }
      else
        { }
    );

  # One value for the whole cluster, or a clear error naming the nodes that disagree.
  agreed =
    what: nodeNames: f:
    let
      values = map (name: {
        inherit name;
        value = f nodes.${name};
      }) nodeNames;
      first = head values;
      other = filter (v: v.value != first.value) values;
    in
    if values == [ ] then
      null
    else if other != [ ] then
      fail "${what} differs between ${first.name} (${builtins.toJSON first.value}) and ${(head other).name} (${builtins.toJSON (head other).value}); the manifest has one for the cluster"
    else
      first.value;

  k0sIn = if k0s == null then { } else k0s;
  airgapIn = k0sIn.airgap or { };

  # k0s-nix names the unit `k0s` since merge 63278bd; before, k0scontroller/k0sworker.
  unit =
    let
      missing = filter (name: !(nodes.${name}.systemd.services ? k0s)) k0sNames;
    in
    if missing == [ ] then
      "k0s"
    else
      fail "node ${head missing} has no systemd unit k0s (k0s-nix before merge 63278bd names it k0scontroller/k0sworker); move the k0s-nix pin forward or set k0s.unit";

  # What the nodes say, unless the settings say it already (given settings win).
  derived =
    (if k0sIn ? unit then { } else { inherit unit; })
    // (
      if k0sIn ? tokenFile then
        { }
      else
        { tokenFile = agreed "services.k0s.tokenFile" k0sNames (n: toString n.services.k0s.tokenFile); }
    );
  derivedAirgap =
    (
      if airgapIn ? bundleDir || workerSideNames == [ ] then
        { }
      else
        {
          bundleDir = agreed "the bundle folder (services.k0s.dataDir + /images)" workerSideNames (
            n: "${toString n.services.k0s.dataDir}/images"
          );
        }
    )
    // (
      if airgapIn ? bundles || workerSideNames == [ ] then
        { }
      else
        { bundles = agreed "vmtest.k0s.bundles" workerSideNames (n: attrNames (n.vmtest.k0s.bundles or { })); }
    );

  k0sSection = derived // k0sIn // { airgap = derivedAirgap // airgapIn; };
in
if k0s != null && k0sNames == [ ] then
  fail "k0s settings were given, but no node enables services.k0s"
else
  mkManifest (
    {
      nodes = mapAttrs nodeInput nodes;
      globalTimeout = config.globalTimeout;
    }
    // (if k0sNames != [ ] then { k0s = k0sSection; } else { })
    // (if values != { } then { inherit values; } else { })
  )
