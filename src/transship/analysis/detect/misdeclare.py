"""Misdeclaration detectors: goods declared under a neighbouring code of the same heading.

- `code_mismatch` (two sides): for an exporter->importer pair, a heading (HS4) and a month,
  the importer records more of the CHPL codes than the exporter declared while the exporter
  declared more of the heading's non-CHPL codes than the importer recorded (or the reverse:
  the importer declares the neighbour). The mismatched value is the smaller of the two
  shortfalls; its share of the heading's trade is compared with the pooled distribution over
  every pair, heading and month (`null_quantile`), and a unit's p-value is the binomial chance
  of at least its number of exceeding months.
- `code_shift` (one side, also both sides alike): its own module, `codeshift`.
- `unit_values` (goods under the neighbour keep their weight, so its USD/kg moves toward the
  CHPL code's): its own module, `unitvalues`.
"""

from __future__ import annotations

from typing import ClassVar

from transship.analysis.detect.base import (
    Context,
    Detector,
    Finding,
    Parameter,
    apply_fdr,
    binom_sf,
    money,
    register,
)
from transship.analysis.detect.panel import heading_table


@register
class CodeMismatchDetector(Detector):
    name: ClassVar[str] = "code_mismatch"
    kind: ClassVar[str] = "code_mismatch"
    description: ClassVar[str] = (
        "Exporter and importer declare the same heading's trade under different codes "
        "(CHPL on one side, a non-CHPL neighbour on the other)."
    )
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        Parameter("fdr", 0.05, "false-discovery rate across all pairs, headings, directions"),
        Parameter("cif_factor", 1.06, "imports are CIF: M_fob = M / cif_factor"),
        Parameter("null_quantile", 0.995, "pooled quantile of the mismatched share to exceed"),
        Parameter("min_usd", 50_000.0, "a month counts only with this much heading trade"),
    )  # fmt: skip

    def run(self, ctx: Context) -> list[Finding]:
        out, n_units = self.candidates(ctx)
        return apply_fdr(out, self.params["fdr"], n_tests=n_units)

    def candidates(self, ctx: Context) -> tuple[list[Finding], int]:
        """Every (pair, heading, direction) exceeding at least twice, with its p-value, before
        FDR; and the number of such units tested. Memoised per parameters."""
        result: tuple[list[Finding], int] = self.memo(ctx, "candidates",
                                                      lambda: self._candidates(ctx))  # fmt: skip
        return result

    def _candidates(self, ctx: Context) -> tuple[list[Finding], int]:
        import ibis

        p = self.params
        f = p["cif_factor"]
        h = heading_table(ctx)
        h = h.filter(h.period >= ctx.post_start)
        z = {k: h[k].fill_null(0.0) for k in ("xc", "mc", "xn", "mn")}
        zero = ibis.literal(0.0)
        a = ibis.least(ibis.greatest(z["mc"] / f - z["xc"], zero),
                       ibis.greatest(z["xn"] - z["mn"] / f, zero))  # fmt: skip
        b = ibis.least(ibis.greatest(z["xc"] - z["mc"] / f, zero),
                       ibis.greatest(z["mn"] / f - z["xn"], zero))  # fmt: skip
        tot = z["xc"] + z["xn"] + (z["mc"] + z["mn"]) / f
        h = h.mutate(a=a, b=b, tot=tot,
                     both=((z["xc"] + z["xn"]) > 0) & ((z["mc"] + z["mn"]) > 0))  # fmt: skip
        h = h.filter(h.both, h.tot >= p["min_usd"])
        h = h.mutate(sa=h.a / h.tot, sb=h.b / h.tot)
        q_row = h.agg(q=h.sa.quantile(p["null_quantile"])).to_pyarrow()
        cut = q_row.column(0)[0].as_py()
        cut = max(float(cut or 0.0), 0.02)
        units = h.group_by("exporter", "importer", "heading").agg(
            n=h.count(), ka=(h.sa > cut).sum(), kb=(h.sb > cut).sum(),
            fa=h.period.min(where=h.sa > cut), fb=h.period.min(where=h.sb > cut),
            va=h.a.sum(where=h.sa > cut), vb=h.b.sum(where=h.sb > cut),
            ma=h.sa.mean(where=h.sa > cut), mb=h.sb.mean(where=h.sb > cut),
        )  # fmt: skip
        rows = units.filter((units.ka >= 2) | (units.kb >= 2)).to_pyarrow().to_pylist()
        n_units = int(units.count().to_pyarrow().as_py()) * 2
        out: list[Finding] = []
        for r in rows:
            for k, first, v, share, who in (
                (r["ka"], r["fa"], r["va"], r["ma"], "the exporter declares the non-CHPL "
                 "neighbour, the importer records CHPL"),
                (r["kb"], r["fb"], r["vb"], r["mb"], "the exporter declares CHPL, the "
                 "importer records the non-CHPL neighbour"),
            ):  # fmt: skip
                if k < 2:
                    continue
                years = max(1.0, r["n"] / 12)
                ev = (f"heading {r['heading']}: {who} in {k} of {r['n']} months (mismatched "
                      f"share {share:.0%} of the heading's trade, pooled {p['null_quantile']:.1%}"
                      f" quantile {cut:.0%}); {money(v)} mismatched")  # fmt: skip
                out.append(Finding(
                    kind=self.kind, where=f"{r['exporter']}->{r['importer']} {r['heading']}",
                    since=first, size_usd=float(v) / years, evidence=ev, detector=self.name,
                    p_value=binom_sf(int(k), int(r["n"]), 1 - p["null_quantile"]),
                    exporter=r["exporter"], importer=r["importer"], hs=r["heading"],
                    link=f"/mirror?hub={r['exporter']}&target={r['importer']}"
                         f"&products={r['heading']}",
                ))  # fmt: skip
        return out, n_units
