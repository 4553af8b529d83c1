#!/usr/bin/env python3
"""Regenerates the hwloc XML fixtures in this folder (run it here; needs lstopo-no-graphics from hwloc 2.x).

hwloc's synthetic topologies give the CPU side; this script then adds what a synthetic topology cannot have:
the OS infos a Linux discovery writes into the root, CPUID infos on the packages, and PCI devices (two
accelerators and some that are not). The result is what `lstopo --of xml` exports on a 2-socket GPU node.
"""
import subprocess

SYNTHETIC = ("package:2 [numa(memory=34359738368)] l3:1(size=33554432) l2:4(size=1048576) "
             "l1d:1(size=49152) l1i:1(size=32768) core:1 "
             "pu:2(indexes=0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15)")

ROOT_INFOS = """    <info name="Backend" value="Linux"/>
    <info name="OSName" value="Linux"/>
    <info name="OSRelease" value="5.15.0-fixture"/>
    <info name="OSVersion" value="#1 SMP fixture"/>
    <info name="HostName" value="fixture-node"/>
    <info name="Architecture" value="x86_64"/>
"""

PACKAGE_INFOS = [
    """      <info name="CPUVendor" value="GenuineIntel"/>
      <info name="CPUFamilyNumber" value="6"/>
      <info name="CPUModelNumber" value="143"/>
      <info name="CPUModel" value="Intel(R) Xeon(R) Platinum 8480+"/>
      <info name="CPUStepping" value="8"/>
""",
    # The second package lacks CPUStepping on purpose: absent infos must read as -1.
    """      <info name="CPUVendor" value="GenuineIntel"/>
      <info name="CPUFamilyNumber" value="6"/>
      <info name="CPUModelNumber" value="143"/>
      <info name="CPUModel" value="Intel(R) Xeon(R) Platinum 8480+"/>
""",
]

# Host bridge of package 0: a chipset device, an Ethernet NIC, and an NVIDIA H100 behind a PCIe switch port.
IO_MACHINE = """    <object type="Bridge" gp_index="1000" bridge_type="0-1" depth="0" bridge_pci="0000:[00-18]">
      <object type="PCIDev" gp_index="1001" pci_busid="0000:00:00.0" pci_type="0600 [8086:09a2] [8086:0000] 04" pci_link_speed="0.000000"/>
      <object type="PCIDev" gp_index="1002" pci_busid="0000:00:1f.6" pci_type="0200 [8086:15f9] [8086:0000] 11" pci_link_speed="0.000000">
        <info name="PCIVendor" value="Intel Corporation"/>
        <info name="PCIDevice" value="Ethernet Connection"/>
        <object type="OSDev" gp_index="1003" name="eno1" osdev_type="2">
          <info name="Address" value="02:00:00:00:00:01"/>
        </object>
      </object>
      <object type="Bridge" gp_index="1004" bridge_type="1-1" depth="1" bridge_pci="0000:[18-18]" pci_busid="0000:17:00.0" pci_type="0604 [8086:352a] [0000:0000] 04" pci_link_speed="31.507692">
        <object type="PCIDev" gp_index="1005" pci_busid="0000:18:00.0" pci_type="0302 [10de:2330] [10de:16c1] a1" pci_link_speed="31.507692">
          <info name="PCIVendor" value="NVIDIA Corporation"/>
          <info name="PCIDevice" value="GH100 [H100 SXM5 80GB]"/>
        </object>
      </object>
    </object>
"""

# Host bridge of package 1: an AMD MI300X (class 0x1200) and an InfiniBand HCA (0x0207, not an accelerator).
IO_PACKAGE1 = """      <object type="Bridge" gp_index="1100" bridge_type="0-1" depth="0" bridge_pci="0000:[c1-c2]">
        <object type="PCIDev" gp_index="1101" pci_busid="0000:c1:00.0" pci_type="1200 [1002:74a1] [1002:74a1] 00" pci_link_speed="31.507692">
          <info name="PCIVendor" value="Advanced Micro Devices, Inc. [AMD/ATI]"/>
          <info name="PCIDevice" value="Aqua Vanjaram [Instinct MI300X]"/>
        </object>
        <object type="PCIDev" gp_index="1102" pci_busid="0000:c2:00.0" pci_type="0207 [15b3:1021] [15b3:0041] 00" pci_link_speed="31.507692">
          <info name="PCIVendor" value="Mellanox Technologies"/>
          <info name="PCIDevice" value="MT2910 Family [ConnectX-7]"/>
        </object>
      </object>
"""

# The same node with what almost every real server has instead of the MI300X: the BMC's 2D VGA function
# (ASPEED AST2x00, 1a03:2000, class 0x0300 behind its AST1150 bridge), which is on the bus as a display device
# but is not a processor. The second variant adds an accelerator that is not in the chip database (a Baidu
# Kunlun, 1d22:3684, class 0x1200), which makes the node count a lower bound again.
IO_PACKAGE1_BMC = """      <object type="Bridge" gp_index="1100" bridge_type="0-1" depth="0" bridge_pci="0000:[02-03]">
        <object type="Bridge" gp_index="1101" bridge_type="1-1" depth="1" bridge_pci="0000:[03-03]" pci_busid="0000:02:00.0" pci_type="0604 [1a03:1150] [1a03:1150] 06" pci_link_speed="0.250000">
          <object type="PCIDev" gp_index="1102" pci_busid="0000:03:00.0" pci_type="0300 [1a03:2000] [15d9:1b95] 52" pci_link_speed="0.250000">
            <info name="PCIVendor" value="ASPEED Technology, Inc."/>
            <info name="PCIDevice" value="ASPEED Graphics Family"/>
          </object>
        </object>
      </object>
"""

IO_PACKAGE1_BMC_UNKNOWN = IO_PACKAGE1_BMC + """      <object type="Bridge" gp_index="1110" bridge_type="0-1" depth="0" bridge_pci="0000:[65-65]">
        <object type="PCIDev" gp_index="1111" pci_busid="0000:65:00.0" pci_type="1200 [1d22:3684] [1d22:3684] 00" pci_link_speed="15.753846">
          <info name="PCIVendor" value="Baidu Technology"/>
          <info name="PCIDevice" value="Kunlun AI Accelerator"/>
        </object>
      </object>
"""


def bmc_variants(two_socket: str) -> dict[str, str]:
    """The BMC fixtures: the two-socket node's file with the package-1 I/O replaced."""
    assert IO_PACKAGE1 in two_socket
    return {"bmc_gpu_node.xml": two_socket.replace(IO_PACKAGE1, IO_PACKAGE1_BMC),
            "bmc_unknown_accelerator_node.xml": two_socket.replace(IO_PACKAGE1, IO_PACKAGE1_BMC_UNKNOWN)}


def lstopo(synthetic: str) -> list[str]:
    out = subprocess.run(["lstopo-no-graphics", "--input", synthetic, "--of", "xml"],
                         check=True, capture_output=True, text=True).stdout
    # Keep the file independent of the machine and tool that generated it.
    return [l for l in out.splitlines(keepends=True)
            if 'name="SyntheticDescription"' not in l and 'name="ProcessName"' not in l
            and 'name="Backend"' not in l]


def two_socket_gpu_node() -> str:
    lines = lstopo(SYNTHETIC)
    out, package = [], 0
    for line in lines:
        stripped = line.strip()
        if stripped.startswith('<object type="Machine"'):
            out.append(line)
            out.append(ROOT_INFOS)
            continue
        if stripped.startswith('<object type="Package"'):
            out.append(line)
            out.append(PACKAGE_INFOS[package])
            package += 1
            continue
        out.append(line)
    text = "".join(out)
    # I/O children follow the normal children: the package-1 bridge goes before that package's closing tag,
    # the machine's bridge before the machine's closing tag.
    machine_close = text.rindex("  </object>\n  <support")
    text = text[:machine_close] + IO_MACHINE + text[machine_close:]
    package1_close = text.rindex("    </object>\n" + IO_MACHINE)
    text = text[:package1_close] + IO_PACKAGE1 + text[package1_close:]
    return text


def main() -> None:
    two_socket = two_socket_gpu_node()
    with open("two_socket_gpu_node.xml", "w") as f:
        f.write(two_socket)
    for name, text in bmc_variants(two_socket).items():
        with open(name, "w") as f:
            f.write(text)
    # No Package objects at all (some VMs and ARM boards): the inventory makes one package of the machine.
    with open("no_packages.xml", "w") as f:
        f.write("".join(lstopo("l2:2(size=524288) core:2 pu:2")))
    # Cut off mid-element: hwloc must refuse it and the error must name the file.
    full = "".join(lstopo("core:2 pu:1"))
    with open("malformed.xml", "w") as f:
        f.write(full[: full.index('<object type="Core"') + 40])


if __name__ == "__main__":
    main()
