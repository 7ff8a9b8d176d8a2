# What every host of ours has, in the test as in production.
{ pkgs, ... }:
{
  environment.systemPackages = [ pkgs.jq ];
  boot.kernel.sysctl."vm.max_map_count" = 262144;
}
