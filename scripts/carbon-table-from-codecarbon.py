#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write data/carbon-intensity.tsv from CodeCarbon's global_energy_mix.json.

Usage: scripts/carbon-table-from-codecarbon.py GLOBAL_ENERGY_MIX_JSON > data/carbon-intensity.tsv

The JSON is codecarbon/data/private_infra/global_energy_mix.json of CodeCarbon (3.3.0 for the
shipped table), itself derived from Our World in Data's energy data set (Ember and the Energy
Institute). Each row keeps its own year. A country whose intensity is 0 there has no data and
is left out rather than shipped as a zero-carbon grid.
"""
import json
import sys


def main():
    with open(sys.argv[1]) as f:
        mix = json.load(f)
    print("# Carbon intensity of electricity by zone (docs/impact.md).")
    print("# zone: ISO 3166-1 alpha-3 code or a region name; g_per_kwh: gCO2e per kWh")

    print("# source OWID: Our World in Data, carbon intensity of electricity (Ember, Energy "
          "Institute), as shipped in CodeCarbon 3.3.0 codecarbon/data/private_infra/"
          "global_energy_mix.json")
    print("zone\tname\tg_per_kwh\tyear\tsource")
    print("WORLD\tWorld average\t475\t2019\tIEA 2019 world average, the fallback of CodeCarbon "
          "and Green Algorithms")
    for iso in sorted(mix):
        row = mix[iso]
        ci = row.get("carbon_intensity")
        if not isinstance(ci, (int, float)) or ci <= 0:
            continue
        print(f"{iso}\t{row['country_name']}\t{ci:g}\t{row['year']}\tOWID via CodeCarbon 3.3.0")


if __name__ == "__main__":
    main()
