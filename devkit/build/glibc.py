"""Is a bootstrap loadable on Lambda's provided.al2023 (glibc 2.34)?

A bootstrap passes when it is static (no PT_INTERP / no DT_NEEDED) or dynamically linked only against the
libraries every Lambda image has, requiring no GLIBC_x.y symbol version newer than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

AL2023_GLIBC = (2, 34)
# Shared objects present in every provided.al2023 environment (glibc and the GCC runtime).
BASE_LIBRARIES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libgcc_s.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    }
)


@dataclass(frozen=True)
class LinkReport:
    path: Path
    machine: str
    static: bool
    needed: tuple[str, ...]
    glibc_versions: tuple[tuple[int, ...], ...]

    @property
    def max_glibc(self) -> tuple[int, ...] | None:
        return max(self.glibc_versions) if self.glibc_versions else None

    def problems(self, limit: tuple[int, int] = AL2023_GLIBC) -> list[str]:
        found = []
        if self.max_glibc and self.max_glibc > limit:
            newer = sorted({".".join(map(str, v)) for v in self.glibc_versions if v > limit})
            found.append(f"needs GLIBC {', '.join(newer)} (Lambda provided.al2023 has {'.'.join(map(str, limit))})")
        extra = sorted(set(self.needed) - BASE_LIBRARIES)
        if extra:
            found.append(f"links shared libraries Lambda does not have: {', '.join(extra)}")
        return found


def inspect(path: Path) -> LinkReport:
    with path.open("rb") as handle:
        elf = ELFFile(handle)
        needed: list[str] = []
        versions: set[tuple[int, ...]] = set()
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                needed += [tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]
            if isinstance(section, GNUVerNeedSection):
                for _, auxiliaries in section.iter_versions():
                    for aux in auxiliaries:
                        if aux.name.startswith("GLIBC_") and aux.name[6:7].isdigit():
                            versions.add(tuple(int(p) for p in aux.name[6:].split(".")))
        has_interp = any(seg.header.p_type == "PT_INTERP" for seg in elf.iter_segments())
        return LinkReport(
            path=path,
            machine=elf["e_machine"],
            static=not has_interp and not needed,
            needed=tuple(needed),
            glibc_versions=tuple(sorted(versions)),
        )
