# Good inputs and the golden file each must produce (run.sh compares them as JSON).
let
  vmlib = import ../default.nix;
  inherit (vmlib) mkManifest fromTest placeholderStartScript;
  settings = import ../../tests/k0s-settings.nix;

  # The few nixpkgs lib functions the topology files call, for evaluation without nixpkgs.
  stubLib = builtins // {
    mkForce = content: {
      _type = "override";
      priority = 50;
      inherit content;
    };
    optional = cond: x: if cond then [ x ] else [ ];
    optionalAttrs = cond: attrs: if cond then attrs else { };
  };

  # The standard topology as mkManifest input: what nix/tests/k0s-cluster.nix builds, with
  # nixpkgs' addresses (name order on VLAN 1) written out.
  standardNodes = {
    ctrl = {
      startScript = placeholderStartScript "ctrl";
      vlans = [ 1 ];
      role = "controller";
      ip = "192.168.1.1";
    };
    wrkr1 = {
      startScript = placeholderStartScript "wrkr1";
      vlans = [ 1 ];
      role = "worker";
      ip = "192.168.1.2";
    };
    wrkr2 = {
      startScript = placeholderStartScript "wrkr2";
      vlans = [ 1 ];
      role = "worker";
      ip = "192.168.1.3";
    };
  };
  standardK0s = settings.k0s // {
    unit = "k0s";
    tokenFile = "/etc/k0s/k0stoken";
    airgap = settings.k0s.airgap // {
      bundleDir = "/var/lib/k0s/images";
      bundles = builtins.attrValues settings.bundleFiles;
    };
  };

  # A stand-in for an evaluated NixOS test config, with just the options from-test.nix reads,
  # shaped as nixpkgs and k0s-nix shape them.
  fakeNode = name: index: role: {
    system.build.vm = {
      outPath = "/nix/store/00000000000000000000000000000000-nixos-vm";
      meta.mainProgram = "run-${name}-vm";
    };
    virtualisation = {
      vlans = [ 1 ];
      interfaces = { };
    };
    networking.primaryIPAddress = "192.168.1.${toString index}";
    services.k0s = {
      enable = true;
      inherit role;
      dataDir = "/var/lib/k0s";
      tokenFile = "/etc/k0s/k0stoken";
    };
    systemd.services.k0s = { };
    vmtest.k0s.bundles = {
      ${settings.bundleFiles.release} = "/nix/store/11111111111111111111111111111111-k0s-airgap-bundle";
      ${settings.bundleFiles.workload} = "/nix/store/22222222222222222222222222222222-vmtest-workload.tar";
    };
  };
  fakeConfig = {
    globalTimeout = settings.globalTimeout;
    nodes = builtins.listToAttrs (
      builtins.genList (
        i:
        let
          name = builtins.elemAt (builtins.attrNames settings.roles) i;
        in
        {
          inherit name;
          value = fakeNode name (i + 1) settings.roles.${name};
        }
      ) (builtins.length (builtins.attrNames settings.roles))
    );
  };
in
{
  # The contract with the C++ side: its unit test loads the same golden file.
  k0s-manifest = {
    golden = "k0s-manifest.json";
    result = mkManifest {
      nodes = standardNodes;
      globalTimeout = settings.globalTimeout;
      k0s = standardK0s;
    };
  };

  # The same manifest, read from a (fake) NixOS test config as the flake reads the real one.
  k0s-manifest-from-test = {
    golden = "k0s-manifest.json";
    result = fromTest {
      config = fakeConfig;
      inherit (settings) k0s;
    };
  };

  # What the flake's `manifest` check does to the real manifest before comparing it.
  k0s-manifest-placeholders = {
    golden = "k0s-manifest.json";
    result = vmlib.withPlaceholderScripts (mkManifest {
      nodes = builtins.mapAttrs (
        name: n: n // { startScript = "/nix/store/33333333333333333333333333333333-nixos-vm/bin/run-${name}-vm"; }
      ) standardNodes;
      globalTimeout = settings.globalTimeout;
      k0s = standardK0s;
    });
  };

  # A plain VM: the nixpkgs driver config alone, VLANs taken from the node.
  minimal = {
    golden = "minimal.json";
    result = mkManifest {
      nodes.machine = {
        startScript = "/nix/store/00000000000000000000000000000000-nixos-vm/bin/run-machine-vm";
        vlans = [ 1 ];
      };
    };
  };

  # allowReboot on one node: allow_reboot in its vms entry only.
  allow-reboot = {
    golden = "allow-reboot.json";
    result = mkManifest {
      nodes.installer = {
        startScript = "/nix/store/00000000000000000000000000000000-nixos-vm/bin/run-installer-vm";
        allowReboot = true;
      };
      nodes.other = {
        startScript = "/nix/store/00000000000000000000000000000000-nixos-vm/bin/run-other-vm";
        allowReboot = false;
      };
    };
  };

  # VLANs are the union of every node's, first-seen in name order, as nixpkgs computes them;
  # plus boot_timeout and a fractional global timeout.
  vlans-union = {
    golden = "vlans-union.json";
    result = fromTest {
      config = {
        globalTimeout = 120.5;
        nodes = {
          router = {
            system.build.vm = {
              outPath = "/nix/store/00000000000000000000000000000000-nixos-vm";
              meta.mainProgram = "run-router-vm";
            };
            virtualisation = {
              vlans = [ 2 ];
              interfaces.uplink.vlan = 3;
            };
          };
          client = {
            system.build.vm = {
              outPath = "/nix/store/00000000000000000000000000000000-nixos-vm";
              meta.mainProgram = "run-client-vm";
            };
            virtualisation = {
              vlans = [
                2
                1
              ];
              interfaces = { };
            };
          };
        };
      };
    };
  };

  # The largest values the C++ side accepts: 100 replicas, a 64-character machine name.
  limits = {
    golden = "limits.json";
    result = mkManifest {
      nodes.${builtins.concatStringsSep "" (builtins.genList (_: "n") 64)} = {
        startScript = "run-n-vm";
        role = "single";
        ip = "192.168.1.1";
      };
      vlans = [ 1 ];
      k0s = {
        airgap.images = [ "docker.io/vmtest/echo:1" ];
        workload = {
          image = "docker.io/vmtest/echo:1";
          replicas = 100;
        };
      };
    };
  };

  # Defaults of the k0s section: one `single` node, explicit boot timeout, no workload.
  k0s-single = {
    golden = "k0s-single.json";
    result = mkManifest {
      nodes.solo = {
        startScript = "run-solo-vm";
        role = "single";
        ip = "192.168.4.7";
      };
      vlans = [ 4 ];
      bootTimeout = 300;
      k0s = { };
    };
  };

  # `values` of every kind, one golden file for both sides: fixtures/tests/values_test.cpp reads
  # values.json through Manifest::value<T>. A derivation stands in as nixpkgs shapes one (type and
  # outPath): it becomes its store path.
  values = {
    golden = "values.json";
    result = mkManifest {
      nodes.machine = {
        startScript = placeholderStartScript "machine";
        vlans = [ 1 ];
      };
      values = {
        appManifest = {
          type = "derivation";
          outPath = "/nix/store/44444444444444444444444444444444-app.yaml";
        };
        appManifests = "/nix/store/55555555555555555555555555555555-manifests";
        greeting = "hello, cluster";
        replicas = 3;
        ratio = 0.25;
        debug = false;
        nothing = null;
        images = [
          "docker.io/acme/web:1.2.3"
          "docker.io/acme/db:15"
        ];
        ports = [
          80
          443
        ];
        tools = [
          {
            type = "derivation";
            outPath = "/nix/store/66666666666666666666666666666666-curl-8.9.1";
          }
          "/nix/store/77777777777777777777777777777777-jq-1.7.1/bin/jq"
        ];
        labels = {
          app = "web";
          tier = "frontend";
        };
        nested = {
          package = {
            type = "derivation";
            outPath = "/nix/store/88888888888888888888888888888888-hello-2.12";
          };
          list = [
            1
            "two"
            { three = 3; }
          ];
        };
      };
    };
  };

  # The user's images for the airgap bundle (nix/lib/images.nix): dockerTools images of each
  # kind, shaped as nixpkgs' dockerTools returns them (name, imageName, imageTag), and archives.
  images = {
    golden = "images.json";
    result = map (i: removeAttrs i [ "src" ]) (
      import ../images.nix [
        {
          name = "stream-web";
          imageName = "acme/web";
          imageTag = "1.2.3";
        }
        {
          name = "docker-image-db.tar.gz";
          imageName = "quay.io/acme/db";
          imageTag = "15";
        }
        {
          archive = "/nix/store/99999999999999999999999999999999-redis.tar";
          ref = "redis:7.4";
        }
        {
          image = {
            name = "stream-echo";
            imageName = "vmtest/echo";
            imageTag = "1";
          };
          file = "vmtest-workload.tar";
        }
        {
          archive = "/nix/store/99999999999999999999999999999999-agent.tar.gz";
          ref = "localhost:5000/agent@sha256:${builtins.concatStringsSep "" (builtins.genList (_: "a") 64)}";
        }
      ]
    );
  };

  # The example consumer flake's values (examples/platform/cluster.nix, its pure part) in a
  # manifest of its nodes: the file its own C++ unit test reads (shop.unit), so the example's
  # round trip is tested on both sides too. workloadManifests is ./k8s's store path.
  example-platform-values = {
    golden = "../../../../examples/platform/tests/testdata/manifest.json";
    result =
      let
        cluster = import ../../../examples/platform/cluster.nix {
          pkgs = null;
          shopImage = null;
        };
      in
      mkManifest {
        nodes = builtins.mapAttrs (name: _: {
          startScript = placeholderStartScript name;
          vlans = [ 1 ];
        }) cluster.nodes;
        inherit (cluster) globalTimeout values;
      };
  };

  # The snapshot-capable form (docs/snapshots.md): what the module sets, with lib.mkForce as
  # nixpkgs defines it (no nixpkgs here: a stand-in of the one function the module uses).
  snapshot-capable-module = {
    golden = "snapshot-capable-module.json";
    result = import ../../modules/snapshot-capable.nix { lib = stubLib; };
  };

  # k0s-cluster.nix imports that module into every node exactly when snapshotCapable is set.
  snapshot-capable-topology = {
    golden = "snapshot-capable-topology.json";
    result =
      let
        imports =
          snapshotCapable:
          let
            topology = import ../../tests/k0s-cluster.nix {
              k0sModule = "k0s-nix-module";
              k0sPackage = "k0s";
              bundles = { };
              inherit snapshotCapable;
            };
            node = (topology { lib = stubLib; }).defaults {
              nodes.ctrl.networking.primaryIPAddress = "192.168.1.1";
            };
          in
          map baseNameOf node.imports;
      in
      {
        default = imports false;
        snapshotCapable = imports true;
      };
  };
}
