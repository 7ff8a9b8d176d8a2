# mkManifest: a VM topology in, vmtest's manifest out (docs/manifest.md).
#
# Builtins only, so Debian's nix-instantiate evaluates it without a nixpkgs checkout
# (nix/lib/tests/run.sh). Reading a NixOS test's config is from-test.nix's job; this file sees
# plain data only.
#
# Input (Nix names):
#   nodes.<name>  = { startScript; vlans ? [ ]; role ? null; ip ? null; allowReboot ? false; }
#   vlans         ? the union of the nodes' vlans, in first-seen order (what nixpkgs computes)
#   globalTimeout ? 3600
#   bootTimeout   ? absent
#   k0s           ? absent; { unit binary tokenFile vlan airgap workload timeouts }, see below
#   values        ? absent; named values for the suites (Manifest::value<T> in C++): strings,
#                   numbers, booleans, null, lists, attribute sets, derivations and paths (these two
#                   become their store path, string context kept, so the check's sandbox has them)
# Output: the manifest as an attribute set, JSON names. Bad input throws
#   "vmtest manifest: <attribute path>: <what is wrong>".
input:
let
  inherit (builtins)
    all
    attrNames
    concatMap
    concatStringsSep
    elem
    elemAt
    filter
    foldl'
    genList
    head
    isAttrs
    isBool
    isFloat
    isInt
    isList
    isString
    length
    listToAttrs
    mapAttrs
    match
    typeOf
    ;

  fail = path: msg: throw "vmtest manifest: ${path}: ${msg}";

  at = path: name: if path == "" then name else "${path}.${name}";

  typeName =
    v:
    {
      int = "an integer";
      float = "a number";
      string = "a string";
      bool = "a boolean";
      null = "null";
      list = "a list";
      set = "an attribute set";
      lambda = "a function";
      path = "a path";
    }
    .${typeOf v} or (typeOf v);

  # Scalars are shown with their value; a list or set would be too long to be useful.
  describe =
    v:
    if isString v || isInt v || isFloat v || isBool v || v == null then
      "${typeName v} ${builtins.toJSON v}"
    else
      typeName v;

  quoteAll = vs: concatStringsSep ", " (map builtins.toJSON vs);

  unique = foldl' (acc: v: if elem v acc then acc else acc ++ [ v ]) [ ];

  firstDuplicate =
    vs:
    let
      go =
        seen: rest:
        if rest == [ ] then
          null
        else if elem (head rest) seen then
          head rest
        else
          go (seen ++ [ (head rest) ]) (builtins.tail rest);
    in
    go [ ] vs;

  # --- checkers: each returns its value or throws naming the attribute path ----------------------

  attrs =
    path: known: v:
    if !isAttrs v then
      fail (if path == "" then "input" else path) "expected an attribute set, got ${describe v}"
    else
      let
        unknown = filter (n: !elem n known) (attrNames v);
      in
      if unknown != [ ] then
        fail (at path (head unknown)) "unknown attribute (known: ${concatStringsSep ", " known})"
      else
        v;

  required = path: set: name: hint: if set ? ${name} then set.${name} else fail (at path name) "missing (${hint})";

  string =
    path: v:
    if isString v && v != "" then v else fail path "expected a non-empty string, got ${describe v}";

  absolutePath =
    path: v:
    if isString v && match "/.*" v != null then v else fail path "expected an absolute path, got ${describe v}";

  bool = path: v: if isBool v then v else fail path "expected a boolean, got ${describe v}";

  intIn =
    lo: hi: path: v:
    if isInt v && v >= lo && v <= hi then
      v
    else
      fail path "expected an integer from ${toString lo} to ${toString hi}, got ${describe v}";

  seconds =
    path: v:
    if (isInt v || isFloat v) && v > 0 then v else fail path "expected a number of seconds > 0, got ${describe v}";

  oneOf =
    choices: path: v:
    if elem v choices then v else fail path "expected one of ${quoteAll choices}, got ${describe v}";

  listOf =
    check: path: v:
    if !isList v then
      fail path "expected a list, got ${describe v}"
    else
      genList (i: check "${path}[${toString i}]" (elemAt v i)) (length v);

  noDuplicates =
    path: vs:
    let
      d = firstDuplicate vs;
    in
    if d == null then vs else fail path "${builtins.toJSON d} appears twice";

  vlanId = intIn 1 255;

  # An image reference the airgapped kubelet can use: a fixed tag (not latest) or a digest.
  pinnedImage =
    path: v:
    let
      ref = string path v;
      m = match "(.*/)?([a-z0-9][a-z0-9._-]*)(:([A-Za-z0-9_][A-Za-z0-9_.-]*))?(@sha256:[0-9a-f]{64})?" ref;
      tag = elemAt m 3;
      digest = elemAt m 4;
    in
    if m == null || match ".*[[:space:]].*" ref != null then
      fail path "${builtins.toJSON ref} is not an image reference"
    else if digest == null && tag == null then
      fail path "${builtins.toJSON ref} has no tag; airgapped images need a fixed tag or a digest"
    else if digest == null && tag == "latest" then
      fail path "${builtins.toJSON ref} uses the tag latest, which the kubelet always pulls; use a fixed tag"
    else
      ref;

  # --- core: vms, vlans, global_timeout -----------------------------------------------------------

  top = attrs "" [
    "nodes"
    "vlans"
    "globalTimeout"
    "bootTimeout"
    "k0s"
    "values"
  ] input;

  nodesIn = required "" top "nodes" "the machines, by name";

  roles = [
    "controller"
    "controller+worker"
    "worker"
    "single"
  ];
  controlRoles = [
    "controller"
    "controller+worker"
    "single"
  ];
  workerRoles = [
    "controller+worker"
    "worker"
    "single"
  ];

  checkNode =
    name: raw:
    let
      p = "nodes.${name}";
      n = attrs p [
        "startScript"
        "vlans"
        "role"
        "ip"
        "allowReboot"
      ] raw;
    in
    if match "[A-Za-z0-9][A-Za-z0-9_-]*" name == null then
      fail p "not a usable machine name (letters, digits, - and _, starting with a letter or digit)"
    # The C++ manifest loader's limit (fixtures/manifest/src/manifest.cpp); it also keeps QEMU's -name and
    # the state folder names short.
    else if builtins.stringLength name > 64 then
      fail p "machine names have at most 64 characters, this one has ${toString (builtins.stringLength name)}"
    else
      {
        inherit name;
        startScript = string "${p}.startScript" (
          required p n "startScript" "the path of the machine's run-<name>-vm script"
        );
        vlans = listOf vlanId "${p}.vlans" (n.vlans or [ ]);
        role = if n ? role then oneOf roles "${p}.role" n.role else null;
        ip = if n ? ip then ipv4 "${p}.ip" n.ip else null;
        # No -no-reboot for this VM; the driver's reboot() needs it.
        allowReboot = bool "${p}.allowReboot" (n.allowReboot or false);
      };

  ipv4 =
    path: v:
    let
      octet = "(0|[1-9][0-9]{0,2})";
      m = if isString v then match "${octet}\\.${octet}\\.${octet}\\.${octet}" v else null;
    in
    if m == null || !all (o: builtins.fromJSON o <= 255) m then
      fail path "expected an IPv4 address, got ${describe v}"
    else
      v;

  nodes =
    if !isAttrs nodesIn then
      fail "nodes" "expected an attribute set, got ${describe nodesIn}"
    else if nodesIn == { } then
      fail "nodes" "no machines"
    else
      mapAttrs checkNode nodesIn;

  # attrNames order, i.e. sorted by name, which is also nixpkgs' node numbering.
  nodeList = map (n: nodes.${n}) (attrNames nodes);

  vlans =
    if top ? vlans then
      let
        explicit = noDuplicates "vlans" (listOf vlanId "vlans" top.vlans);
        stray = filter (n: filter (v: !elem v explicit) n.vlans != [ ]) nodeList;
        s = head stray;
      in
      if stray == [ ] then
        explicit
      else
        fail "nodes.${s.name}.vlans" "VLAN ${toString (head (filter (v: !elem v explicit) s.vlans))} is not in vlans ${builtins.toJSON explicit}"
    else
      unique (concatMap (n: n.vlans) nodeList);

  globalTimeout = seconds "globalTimeout" (top.globalTimeout or 3600);

  core = {
    vms = mapAttrs (
      name: n:
      {
        inherit name;
        start_script = n.startScript;
      }
      // (if n.allowReboot then { allow_reboot = true; } else { })
    ) nodes;
    inherit vlans;
    global_timeout = globalTimeout;
  }
  // (if top ? bootTimeout then { boot_timeout = seconds "bootTimeout" top.bootTimeout; } else { });

  # --- k0s -----------------------------------------------------------------------------------------

  roleNodes = filter (n: n.role != null || n.ip != null) nodeList;

  noK0s =
    if roleNodes == [ ] then
      { }
    else
      let
        n = head roleNodes;
      in
      fail "nodes.${n.name}.${if n.role != null then "role" else "ip"}" "set, but there is no k0s section";

  k0s =
    let
      k = attrs "k0s" [
        "unit"
        "binary"
        "tokenFile"
        "vlan"
        "airgap"
        "workload"
        "timeouts"
      ] top.k0s;

      vlan =
        if k ? vlan then
          let
            v = vlanId "k0s.vlan" k.vlan;
          in
          if elem v vlans then v else fail "k0s.vlan" "VLAN ${toString v} is not in vlans ${builtins.toJSON vlans}"
        else if vlans == [ ] then
          fail "k0s.vlan" "not set, and there are no VLANs to take the first of"
        else
          head vlans;

      # Every k0s node needs both; a node with neither is a plain VM beside the cluster.
      checkK0sNode =
        n:
        let
          p = "nodes.${n.name}";
          m = match "192\\.168\\.([0-9]+)\\.([0-9]+)" n.ip;
          hostPart = builtins.fromJSON (elemAt m 1);
        in
        if n.role == null then
          fail "${p}.role" "missing (the node has an ip, so it is a k0s node: give it a role)"
        else if n.ip == null then
          fail "${p}.ip" "missing (the node's address on the k0s VLAN ${toString vlan})"
        else if n.vlans != [ ] && !elem vlan n.vlans then
          fail "${p}.vlans" "the node is not on the k0s VLAN ${toString vlan}"
        else if m == null || head m != toString vlan || hostPart < 1 || hostPart > 254 then
          fail "${p}.ip" "${builtins.toJSON n.ip} is not on VLAN ${toString vlan} (192.168.${toString vlan}.1-254, as nixpkgs assigns)"
        else
          {
            inherit (n) role ip;
          };

      k0sNodes = map (n: n // checkK0sNode n) roleNodes;
      controllers = filter (n: elem n.role controlRoles) k0sNodes;
      workerSide = filter (n: elem n.role workerRoles) k0sNodes;
      singles = filter (n: n.role == "single") k0sNodes;

      ipOwner = listToAttrs (map (n: {
        name = n.ip;
        value = n.name;
      }) k0sNodes);
      ipClash = filter (n: ipOwner.${n.ip} != n.name) k0sNodes;

      nodesOut =
        if k0sNodes == [ ] then
          fail "k0s" "no k0s nodes: give the cluster's nodes a role and an ip"
        else if controllers == [ ] then
          fail "k0s" "no controller: one node needs role controller, controller+worker or single"
        else if singles != [ ] && length k0sNodes > 1 then
          fail "nodes.${(head singles).name}.role" "\"single\" is a whole cluster on one node; no other node may have a role"
        else if ipClash != [ ] then
          let
            c = head ipClash;
          in
          fail "nodes.${c.name}.ip" "${builtins.toJSON c.ip} is also the address of ${ipOwner.${c.ip}}"
        else
          listToAttrs (map (n: {
            inherit (n) name;
            value = { inherit (n) role ip; };
          }) k0sNodes);

      a = attrs "k0s.airgap" [
        "bundleDir"
        "bundles"
        "images"
        "listImages"
        "pullPolicy"
      ] (k.airgap or { });

      fileName =
        path: v:
        let
          s = string path v;
        in
        if match "[^/]+" s != null && s != "." && s != ".." then s else fail path "${builtins.toJSON s} is not a file name";

      images = noDuplicates "k0s.airgap.images" (listOf pinnedImage "k0s.airgap.images" (a.images or [ ]));

      airgap = {
        bundle_dir = absolutePath "k0s.airgap.bundleDir" (a.bundleDir or "/var/lib/k0s/images");
        bundles = noDuplicates "k0s.airgap.bundles" (listOf fileName "k0s.airgap.bundles" (a.bundles or [ ]));
        inherit images;
        list_images = bool "k0s.airgap.listImages" (a.listImages or true);
        pull_policy = oneOf [ "Never" "IfNotPresent" "Always" ] "k0s.airgap.pullPolicy" (a.pullPolicy or "Never");
      };

      workload =
        let
          w = attrs "k0s.workload" [
            "image"
            "port"
            "nodePort"
            "replicas"
            "namespace"
          ] k.workload;
          image = pinnedImage "k0s.workload.image" (required "k0s.workload" w "image" "the image of the test Deployment");
          namespace = string "k0s.workload.namespace" (w.namespace or "vmtest-workload");
        in
        if !elem image images then
          fail "k0s.workload.image" "${builtins.toJSON image} is not in k0s.airgap.images; an airgapped cluster cannot pull it"
        else if workerSide == [ ] then
          fail "k0s.workload" "no worker-side node (role worker, controller+worker or single) to run it on"
        else if match "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?" namespace == null then
          fail "k0s.workload.namespace" "${builtins.toJSON namespace} is not a Kubernetes namespace name (DNS-1123 label)"
        else
          {
            inherit image namespace;
            port = intIn 1 65535 "k0s.workload.port" (w.port or 8080);
            node_port = intIn 30000 32767 "k0s.workload.nodePort" (w.nodePort or 30080);
            # The C++ side's range (suites/k0s/src/config.cpp): a manifest it refuses must not build.
            replicas = intIn 1 100 "k0s.workload.replicas" (w.replicas or (length workerSide));
          };

      t = attrs "k0s.timeouts" [
        "api"
        "nodeReady"
        "rollout"
      ] (k.timeouts or { });
    in
    # The nodes first: a section without a usable cluster has nothing else worth checking.
    builtins.seq nodesOut {
      unit = string "k0s.unit" (k.unit or "k0s");
      k0s = string "k0s.binary" (k.binary or "k0s");
      token_file = absolutePath "k0s.tokenFile" (k.tokenFile or "/etc/k0s/k0stoken");
      inherit vlan airgap;
      nodes = nodesOut;
      timeouts = {
        api = seconds "k0s.timeouts.api" (t.api or 900);
        node_ready = seconds "k0s.timeouts.nodeReady" (t.nodeReady or 1500);
        rollout = seconds "k0s.timeouts.rollout" (t.rollout or 900);
      };
    }
    // (if k ? workload && k.workload != null then { inherit workload; } else { });

  # --- values: what the Nix side hands the suites (docs/manifest.md, "values") -------------------

  # A derivation or a path becomes its store path by interpolation, which keeps the string's
  # context: a check that uses the manifest then depends on what the value names.
  jsonValue =
    path: v:
    if isAttrs v && (v.type or null) == "derivation" then
      "${v}"
    else if isAttrs v && v ? outPath then
      "${v.outPath}"
    else if builtins.isPath v then
      "${v}"
    else if isAttrs v then
      mapAttrs (n: jsonValue (at path n)) v
    else if isList v then
      genList (i: jsonValue "${path}[${toString i}]" (elemAt v i)) (length v)
    else if isString v || isInt v || isFloat v || isBool v || v == null then
      v
    else
      fail path "${typeName v} cannot become a JSON value (give a string, number, boolean, list, attribute set, derivation or path)";

  values =
    let
      v = top.values;
      bad = filter (n: match "[A-Za-z_][A-Za-z0-9_.-]*" n == null) (attrNames v);
    in
    if !isAttrs v then
      fail "values" "expected an attribute set of named values, got ${describe v}"
    else if bad != [ ] then
      fail "values.${head bad}" "not a usable value name (letters, digits, _, - and ., starting with a letter or _)"
    else
      mapAttrs (n: jsonValue "values.${n}") v;

  manifest =
    core
    // (if top ? k0s && top.k0s != null then { inherit k0s; } else noK0s)
    // (if top ? values then { inherit values; } else { });
in
# Force every check now, so that a bad attribute fails here and not in whoever reads it later.
builtins.deepSeq manifest manifest
