#!/usr/bin/env python3
"""gen_reference_data.py - write the reference-data migration of Strata's Medusa schema.

Medusa's second core migration (1611063174563-countries_currencies) fills the
`country` and `currency` tables. A Medusa server hands these rows out as they
are (a region's countries with their serial ids, a store's currencies with
their names and symbols), so a database Strata builds must hold the same rows,
in the same order, for a Medusa server on it to answer as on one Medusa built.
Strata's version of the migration,
migrations/1611063174563_countries_currencies.json, is written by this script:

  country   ISO 3166-1 from Debian's iso-codes
            (/usr/share/iso-codes/json/iso_3166-1.json): iso_2 and iso_3
            lower-cased (as Medusa stores them), num_code, and ISO's name as
            display_name (in capitals as name), where Medusa 1.20 departs from
            ISO, as Medusa has it (COUNTRY_DEPARTURES: 16 older or simplified
            names, two alpha-3 codes, and Kosovo, which has no ISO code).
            Ordered by display_name, as Medusa's list is: Medusa inserts them
            in that order, so the serial country.id of each is Medusa's.
  currency  the 120 currencies Medusa 1.20 lists, with its symbols and names
            (MEDUSA_CURRENCIES), in its order; codes lower-cased.

The country table's key is a serial, so the migration has an explicit down that
deletes the rows by iso_2 and by code.

Usage:
  scripts/gen_reference_data.py            write the migration
  scripts/gen_reference_data.py --check    exit 1 if the committed file differs
  scripts/gen_reference_data.py --stdout   print it
Option --iso-codes DIR points at another copy of iso-codes' JSON files.
Standard library only.
"""
import argparse
import json
import os
import sys

MIGRATION = "1611063174563_countries_currencies.json"
ISO_DIR = "/usr/share/iso-codes/json"
WIDTH = 120

# Where Medusa 1.20's country list (@medusajs/medusa utils/countries) differs
# from ISO 3166-1: alpha-2 -> the fields Medusa has instead. Kosovo (XK) is a
# user-assigned code outside ISO 3166-1; BVD and ROM are not ISO's alpha-3
# codes (BVT, ROU), but they are what a Medusa database holds.
COUNTRY_DEPARTURES = {
    "BO": {"name": "Bolivia"},
    "BV": {"alpha_3": "BVD"},
    "CD": {"name": "Congo, the Democratic Republic of the"},
    "CI": {"name": "Cote D'Ivoire"},
    "CV": {"name": "Cape Verde"},
    "CZ": {"name": "Czech Republic"},
    "HM": {"name": "Heard Island And Mcdonald Islands"},
    "IM": {"name": "Isle Of Man"},
    "MK": {"name": "Macedonia, the Former Yugoslav Republic of"},
    "PS": {"name": "Palestinian Territory, Occupied"},
    "RE": {"name": "Reunion"},
    "RO": {"alpha_3": "ROM"},
    "SH": {"name": "Saint Helena"},
    "SX": {"name": "Sint Maarten"},
    "SZ": {"name": "Swaziland"},
    "TL": {"name": "Timor Leste"},
    "TR": {"name": "Turkey"},
    "VE": {"name": "Venezuela"},
    "XK": {"name": "Kosovo", "alpha_3": "XKX", "numeric": "900"},
}

# The currencies of Medusa 1.20 (@medusajs/medusa utils/currencies), in its
# order: code, symbol, native symbol, name.
MEDUSA_CURRENCIES = [
    ("USD", "$", "$", "US Dollar"),
    ("CAD", "CA$", "$", "Canadian Dollar"),
    ("EUR", "€", "€", "Euro"),
    ("AED", "AED", "د.إ.‏", "United Arab Emirates Dirham"),
    ("AFN", "Af", "؋", "Afghan Afghani"),
    ("ALL", "ALL", "Lek", "Albanian Lek"),
    ("AMD", "AMD", "դր.", "Armenian Dram"),
    ("ARS", "AR$", "$", "Argentine Peso"),
    ("AUD", "AU$", "$", "Australian Dollar"),
    ("AZN", "man.", "ман.", "Azerbaijani Manat"),
    ("BAM", "KM", "KM", "Bosnia-Herzegovina Convertible Mark"),
    ("BDT", "Tk", "৳", "Bangladeshi Taka"),
    ("BGN", "BGN", "лв.", "Bulgarian Lev"),
    ("BHD", "BD", "د.ب.‏", "Bahraini Dinar"),
    ("BIF", "FBu", "FBu", "Burundian Franc"),
    ("BND", "BN$", "$", "Brunei Dollar"),
    ("BOB", "Bs", "Bs", "Bolivian Boliviano"),
    ("BRL", "R$", "R$", "Brazilian Real"),
    ("BWP", "BWP", "P", "Botswanan Pula"),
    ("BYN", "Br", "руб.", "Belarusian Ruble"),
    ("BZD", "BZ$", "$", "Belize Dollar"),
    ("CDF", "CDF", "FrCD", "Congolese Franc"),
    ("CHF", "CHF", "CHF", "Swiss Franc"),
    ("CLP", "CL$", "$", "Chilean Peso"),
    ("CNY", "CN¥", "CN¥", "Chinese Yuan"),
    ("COP", "CO$", "$", "Colombian Peso"),
    ("CRC", "₡", "₡", "Costa Rican Colón"),
    ("CVE", "CV$", "CV$", "Cape Verdean Escudo"),
    ("CZK", "Kč", "Kč", "Czech Republic Koruna"),
    ("DJF", "Fdj", "Fdj", "Djiboutian Franc"),
    ("DKK", "Dkr", "kr", "Danish Krone"),
    ("DOP", "RD$", "RD$", "Dominican Peso"),
    ("DZD", "DA", "د.ج.‏", "Algerian Dinar"),
    ("EEK", "Ekr", "kr", "Estonian Kroon"),
    ("EGP", "EGP", "ج.م.‏", "Egyptian Pound"),
    ("ERN", "Nfk", "Nfk", "Eritrean Nakfa"),
    ("ETB", "Br", "Br", "Ethiopian Birr"),
    ("GBP", "£", "£", "British Pound Sterling"),
    ("GEL", "GEL", "GEL", "Georgian Lari"),
    ("GHS", "GH₵", "GH₵", "Ghanaian Cedi"),
    ("GNF", "FG", "FG", "Guinean Franc"),
    ("GTQ", "GTQ", "Q", "Guatemalan Quetzal"),
    ("HKD", "HK$", "$", "Hong Kong Dollar"),
    ("HNL", "HNL", "L", "Honduran Lempira"),
    ("HRK", "kn", "kn", "Croatian Kuna"),
    ("HUF", "Ft", "Ft", "Hungarian Forint"),
    ("IDR", "Rp", "Rp", "Indonesian Rupiah"),
    ("ILS", "₪", "₪", "Israeli New Sheqel"),
    ("INR", "Rs", "₹", "Indian Rupee"),
    ("IQD", "IQD", "د.ع.‏", "Iraqi Dinar"),
    ("IRR", "IRR", "﷼", "Iranian Rial"),
    ("ISK", "Ikr", "kr", "Icelandic Króna"),
    ("JMD", "J$", "$", "Jamaican Dollar"),
    ("JOD", "JD", "د.أ.‏", "Jordanian Dinar"),
    ("JPY", "¥", "￥", "Japanese Yen"),
    ("KES", "Ksh", "Ksh", "Kenyan Shilling"),
    ("KHR", "KHR", "៛", "Cambodian Riel"),
    ("KMF", "CF", "FC", "Comorian Franc"),
    ("KRW", "₩", "₩", "South Korean Won"),
    ("KWD", "KD", "د.ك.‏", "Kuwaiti Dinar"),
    ("KZT", "KZT", "тңг.", "Kazakhstani Tenge"),
    ("LBP", "LB£", "ل.ل.‏", "Lebanese Pound"),
    ("LKR", "SLRs", "SL Re", "Sri Lankan Rupee"),
    ("LTL", "Lt", "Lt", "Lithuanian Litas"),
    ("LVL", "Ls", "Ls", "Latvian Lats"),
    ("LYD", "LD", "د.ل.‏", "Libyan Dinar"),
    ("MAD", "MAD", "د.م.‏", "Moroccan Dirham"),
    ("MDL", "MDL", "MDL", "Moldovan Leu"),
    ("MGA", "MGA", "MGA", "Malagasy Ariary"),
    ("MKD", "MKD", "MKD", "Macedonian Denar"),
    ("MMK", "MMK", "K", "Myanma Kyat"),
    ("MNT", "MNT", "₮", "Mongolian Tugrig"),
    ("MOP", "MOP$", "MOP$", "Macanese Pataca"),
    ("MUR", "MURs", "MURs", "Mauritian Rupee"),
    ("MXN", "MX$", "$", "Mexican Peso"),
    ("MYR", "RM", "RM", "Malaysian Ringgit"),
    ("MZN", "MTn", "MTn", "Mozambican Metical"),
    ("NAD", "N$", "N$", "Namibian Dollar"),
    ("NGN", "₦", "₦", "Nigerian Naira"),
    ("NIO", "C$", "C$", "Nicaraguan Córdoba"),
    ("NOK", "Nkr", "kr", "Norwegian Krone"),
    ("NPR", "NPRs", "नेरू", "Nepalese Rupee"),
    ("NZD", "NZ$", "$", "New Zealand Dollar"),
    ("OMR", "OMR", "ر.ع.‏", "Omani Rial"),
    ("PAB", "B/.", "B/.", "Panamanian Balboa"),
    ("PEN", "S/.", "S/.", "Peruvian Nuevo Sol"),
    ("PHP", "₱", "₱", "Philippine Peso"),
    ("PKR", "PKRs", "₨", "Pakistani Rupee"),
    ("PLN", "zł", "zł", "Polish Zloty"),
    ("PYG", "₲", "₲", "Paraguayan Guarani"),
    ("QAR", "QR", "ر.ق.‏", "Qatari Rial"),
    ("RON", "RON", "RON", "Romanian Leu"),
    ("RSD", "din.", "дин.", "Serbian Dinar"),
    ("RUB", "RUB", "₽.", "Russian Ruble"),
    ("RWF", "RWF", "FR", "Rwandan Franc"),
    ("SAR", "SR", "ر.س.‏", "Saudi Riyal"),
    ("SDG", "SDG", "SDG", "Sudanese Pound"),
    ("SEK", "Skr", "kr", "Swedish Krona"),
    ("SGD", "S$", "$", "Singapore Dollar"),
    ("SOS", "Ssh", "Ssh", "Somali Shilling"),
    ("SYP", "SY£", "ل.س.‏", "Syrian Pound"),
    ("THB", "฿", "฿", "Thai Baht"),
    ("TND", "DT", "د.ت.‏", "Tunisian Dinar"),
    ("TOP", "T$", "T$", "Tongan Paʻanga"),
    ("TRY", "TL", "TL", "Turkish Lira"),
    ("TTD", "TT$", "$", "Trinidad and Tobago Dollar"),
    ("TWD", "NT$", "NT$", "New Taiwan Dollar"),
    ("TZS", "TSh", "TSh", "Tanzanian Shilling"),
    ("UAH", "₴", "₴", "Ukrainian Hryvnia"),
    ("UGX", "USh", "USh", "Ugandan Shilling"),
    ("UYU", "$U", "$", "Uruguayan Peso"),
    ("UZS", "UZS", "UZS", "Uzbekistan Som"),
    ("VEF", "Bs.F.", "Bs.F.", "Venezuelan Bolívar"),
    ("VND", "₫", "₫", "Vietnamese Dong"),
    ("XAF", "FCFA", "FCFA", "CFA Franc BEAC"),
    ("XOF", "CFA", "CFA", "CFA Franc BCEAO"),
    ("YER", "YR", "ر.ي.‏", "Yemeni Rial"),
    ("ZAR", "R", "R", "South African Rand"),
    ("ZMK", "ZK", "ZK", "Zambian Kwacha"),
    ("ZWL", "ZWL$", "ZWL$", "Zimbabwean Dollar"),
]


def load_countries(iso_dir):
    """Rows for the country table, in Medusa's order (by display_name)."""
    with open(os.path.join(iso_dir, "iso_3166-1.json"), encoding="utf-8") as f:
        entries = {e["alpha_2"]: dict(e) for e in json.load(f)["3166-1"]}
    for code, fields in COUNTRY_DEPARTURES.items():
        entries.setdefault(code, {"alpha_2": code}).update(fields)
    rows = []
    for e in entries.values():
        rows.append({
            "iso_2": e["alpha_2"].lower(),
            "iso_3": e["alpha_3"].lower(),
            "num_code": int(e["numeric"], 10),
            "name": e["name"].upper(),
            "display_name": e["name"],
        })
    rows.sort(key=lambda r: r["display_name"])
    return rows


def load_currencies():
    """Rows for the currency table, in Medusa's order."""
    return [{"code": code.lower(), "symbol": symbol, "symbol_native": native, "name": name}
            for code, symbol, native, name in MEDUSA_CURRENCIES]


def fmt(v, indent=0):
    """JSON with containers that fit in WIDTH columns kept on one line."""
    flat = json.dumps(v, ensure_ascii=False, separators=(", ", ": "))
    if len(flat) + indent <= WIDTH or not isinstance(v, (dict, list)) or not v:
        return flat
    pad = " " * (indent + 2)
    if isinstance(v, list):
        items = [pad + fmt(e, indent + 2) for e in v]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k, ensure_ascii=False) + ": " + fmt(e, indent + 2) for k, e in v.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def migration(countries, currencies):
    return {
        "description": (
            "Reference data of Medusa 1.20 core migration 1611063174563-countries_currencies "
            "(countriesCurrencies1611063174563): the same rows as Medusa's, in its order: %d "
            "countries (ISO 3166-1 from Debian's iso-codes, with Medusa's departures from it, "
            "ordered by display_name, so that the serial country.id of each is Medusa's) and %d "
            "currencies (Medusa's list, symbols and names). Generated by "
            "scripts/gen_reference_data.py - do not edit. Codes are lower-case as in Medusa. "
            "country.id is a serial, so the rows have no key values and the down deletes them by "
            "iso_2 and by code."
            % (len(countries), len(currencies))),
        "origin": {"typeorm": "countriesCurrencies1611063174563"},
        "up": [
            {"op": "insert", "table": "country", "rows": countries},
            {"op": "insert", "table": "currency", "rows": currencies},
        ],
        "down": [
            {"op": "delete", "table": "country",
             "where": {"column": "iso_2", "in": [r["iso_2"] for r in countries]}},
            {"op": "delete", "table": "currency",
             "where": {"column": "code", "in": [r["code"] for r in currencies]}},
        ],
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iso-codes", default=ISO_DIR)
    ap.add_argument("--output", default=os.path.join(here, "..", "migrations", MIGRATION))
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--stdout", action="store_true")
    args = ap.parse_args()

    text = fmt(migration(load_countries(args.iso_codes), load_currencies())) + "\n"
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except OSError as e:
            print("gen_reference_data: %s" % e, file=sys.stderr)
            return 1
        if current != text:
            print("gen_reference_data: %s differs from the generator's output; "
                  "run scripts/gen_reference_data.py" % args.output, file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
