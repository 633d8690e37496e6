"""Master data of a generated café outlet in Moka's v1 shapes (reference §7): business, outlet,
categories, items with variants and modifiers, discounts, taxes, service charges, sales types,
business customers and staff. Deterministic from the RNG it is given."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from sandbox.moka.formats import iso_ms, money

Json = dict[str, Any]

# (category, base names, flavours, price range in thousands, variant schemes, modifier groups)
CATEGORIES: list[tuple[str, list[str], list[str], tuple[int, int], str, list[str]]] = [
    (
        "Kopi",
        [
            "Kopi Susu",
            "Americano",
            "Cappuccino",
            "Caffe Latte",
            "Flat White",
            "Mochaccino",
            "Kopi Tubruk",
            "Vietnam Drip",
            "Macchiato",
            "Cold Brew",
            "Long Black",
            "Piccolo",
            "Espresso",
            "Affogato",
            "Kopi Tarik",
        ],
        [
            "",
            "Gula Aren",
            "Hazelnut",
            "Vanilla",
            "Caramel",
            "Pandan",
            "Butterscotch",
            "Rum",
            "Salted Caramel",
            "Kelapa",
            "Tiramisu",
            "Mocha",
        ],
        (18, 38),
        "drink",
        ["Level Gula", "Es", "Extra Shot", "Susu", "Sirup"],
    ),
    (
        "Non-Kopi",
        [
            "Matcha Latte",
            "Red Velvet Latte",
            "Coklat",
            "Taro Latte",
            "Susu Segar",
            "Thai Tea",
            "Green Tea Latte",
            "Charcoal Latte",
            "Banana Milk",
            "Milkshake",
        ],
        ["", "Original", "Oreo", "Stroberi", "Hazelnut", "Regal", "Keju"],
        (18, 34),
        "drink",
        ["Level Gula", "Es", "Susu", "Topping Minuman"],
    ),
    (
        "Teh",
        [
            "Teh Tarik",
            "Lemon Tea",
            "Lychee Tea",
            "Peach Tea",
            "Teh Melati",
            "Earl Grey",
            "Teh Poci",
            "Ocha",
            "Milk Tea",
            "Teh Tubruk",
        ],
        ["", "Madu", "Yakult", "Mint", "Markisa", "Jahe"],
        (10, 28),
        "drink",
        ["Level Gula", "Es", "Topping Minuman"],
    ),
    (
        "Jus & Smoothies",
        [
            "Jus Jeruk",
            "Jus Alpukat",
            "Jus Mangga",
            "Jus Jambu",
            "Jus Semangka",
            "Smoothie",
            "Jus Sirsak",
            "Jus Melon",
            "Jus Wortel",
            "Jus Tomat",
        ],
        ["", "Segar", "Yogurt", "Madu", "Susu"],
        (15, 32),
        "juice",
        ["Level Gula", "Topping Minuman"],
    ),
    (
        "Makanan Berat",
        [
            "Nasi Goreng",
            "Mie Goreng",
            "Nasi Ayam Geprek",
            "Nasi Rendang",
            "Sop Buntut",
            "Nasi Campur",
            "Spaghetti",
            "Nasi Ayam Bakar",
            "Bakmi",
            "Chicken Katsu",
            "Beef Teriyaki",
            "Soto",
            "Rawon",
            "Nasi Uduk",
            "Kwetiau Goreng",
            "Nasi Bakar",
        ],
        [
            "",
            "Spesial",
            "Kampung",
            "Pedas",
            "Keju",
            "Seafood",
            "Ayam",
            "Sapi",
            "Telur Asin",
            "Sambal Matah",
            "Jawa",
        ],
        (28, 75),
        "food",
        ["Level Pedas", "Tambahan Makanan", "Saus"],
    ),
    (
        "Makanan Ringan",
        [
            "Kentang Goreng",
            "Pisang Goreng",
            "Tahu Crispy",
            "Cireng",
            "Roti Bakar",
            "Singkong Goreng",
            "Onion Rings",
            "Chicken Wings",
            "Dimsum",
            "Risoles",
            "Tempe Mendoan",
            "Lumpia",
        ],
        ["", "Keju", "Coklat", "Balado", "Sambal Roa", "Mayo", "Original"],
        (15, 35),
        "snack",
        ["Level Pedas", "Saus"],
    ),
    (
        "Roti & Kue",
        [
            "Croissant",
            "Pain au Chocolat",
            "Banana Bread",
            "Cinnamon Roll",
            "Donat",
            "Bolu",
            "Brownies",
            "Cheesecake",
            "Roti Sobek",
            "Muffin",
            "Tiramisu Cake",
            "Lapis Legit",
        ],
        ["", "Coklat", "Keju", "Pandan", "Almond", "Blueberry"],
        (12, 45),
        "bakery",
        ["Topping Dessert"],
    ),
    (
        "Dessert",
        [
            "Es Campur",
            "Es Teler",
            "Puding",
            "Panna Cotta",
            "Es Krim",
            "Klepon",
            "Es Cendol",
            "Pancake",
            "Waffle",
            "Bingsu",
        ],
        ["", "Coklat", "Durian", "Mangga", "Matcha", "Stroberi"],
        (15, 48),
        "snack",
        ["Topping Dessert"],
    ),
    (
        "Paket",
        ["Paket Hemat", "Paket Sarapan", "Paket Makan Siang", "Paket Keluarga", "Paket Berdua"],
        ["", "A", "B", "C", "Spesial"],
        (45, 160),
        "single",
        [],
    ),
    (
        "Merchandise",
        ["Tumbler", "Biji Kopi 250g", "Totebag", "Mug", "Drip Bag"],
        ["", "Hitam", "Putih", "Arabika Gayo", "Robusta Temanggung"],
        (35, 180),
        "single",
        [],
    ),
]

VARIANT_SCHEMES: dict[str, list[list[tuple[str, int]]]] = {
    # Each scheme: variant names with their price step (thousands) over the base price.
    "drink": [
        [("", 0)],
        [("Hot", 0), ("Iced", 2)],
        [("Regular", 0), ("Large", 6)],
        [("Hot", 0), ("Iced Regular", 2), ("Iced Large", 8)],
        [("Hot", 0), ("Iced", 2), ("Hot Large", 6), ("Iced Large", 8)],
    ],
    "juice": [[("", 0)], [("Regular", 0), ("Large", 5)]],
    "food": [
        [("", 0)],
        [("Biasa", 0), ("Jumbo", 10)],
        [("Ayam", 0), ("Sapi", 8)],
        [("Ayam", 0), ("Sapi", 8), ("Seafood", 12)],
    ],
    "snack": [[("", 0)], [("Kecil", 0), ("Besar", 7)]],
    "bakery": [[("", 0)], [("Slice", 0), ("Whole", 90)]],
    "single": [[("", 0)]],
}

MODIFIER_GROUPS: list[tuple[str, int, list[tuple[str, int]]]] = [
    ("Level Gula", 1, [("Normal", 0), ("Less Sugar", 0), ("No Sugar", 0)]),
    ("Es", 0, [("Normal Ice", 0), ("Less Ice", 0), ("No Ice", 0)]),
    ("Extra Shot", 0, [("Espresso Shot", 6000)]),
    ("Susu", 0, [("Oat Milk", 8000), ("Almond Milk", 8000), ("Soy Milk", 6000)]),
    ("Sirup", 0, [("Vanilla", 5000), ("Hazelnut", 5000), ("Caramel", 5000)]),
    (
        "Topping Minuman",
        0,
        [("Boba", 5000), ("Cheese Foam", 7000), ("Grass Jelly", 4000), ("Whipped Cream", 5500)],
    ),
    ("Level Pedas", 0, [("Tidak Pedas", 0), ("Sedang", 0), ("Pedas", 0), ("Extra Pedas", 2500)]),
    (
        "Tambahan Makanan",
        0,
        [("Telur Ceplok", 5000), ("Keju", 6000), ("Nasi Tambah", 6000), ("Kerupuk", 3000)],
    ),
    ("Saus", 0, [("Sambal Matah", 3000), ("Saus Keju", 5000), ("Mayo", 2000)]),
    ("Topping Dessert", 0, [("Es Krim", 8000), ("Saus Coklat", 4000), ("Keju Parut", 5000)]),
]

DISCOUNTS: list[tuple[str, str, Decimal]] = [
    ("Diskon Member", "percentage", Decimal(10)),
    ("Happy Hour", "percentage", Decimal("12.5")),
    ("Promo Gajian", "percentage", Decimal(15)),
    ("Diskon Karyawan", "percentage", Decimal(20)),
    ("Potongan 5rb", "cash", Decimal(5000)),
    ("Voucher 10rb", "cash", Decimal(10000)),
    ("Voucher 25rb", "cash", Decimal(25000)),
]

SALES_TYPES = ["Dine In", "Take Away", "GoFood", "GrabFood"]
ONLINE_SALES_TYPES = ("GoFood", "GrabFood")

FIRST_NAMES = [
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Rudi",
    "Ayu",
    "Andi",
    "Rina",
    "Eko",
    "Fitri",
    "Hendra",
    "Indah",
    "Joko",
    "Kartika",
    "Lukman",
    "Maya",
    "Nur",
    "Putri",
    "Rizky",
    "Sari",
    "Teguh",
    "Wulan",
    "Yusuf",
    "Dian",
    "Bayu",
    "Citra",
    "Fajar",
    "Gita",
    "Hadi",
    "Intan",
    "Kevin",
    "Lestari",
    "Michael",
    "Novi",
    "Oscar",
    "Ratna",
]
LAST_NAMES = [
    "Santoso",
    "Wijaya",
    "Saputra",
    "Lestari",
    "Hidayat",
    "Kusuma",
    "Pratama",
    "Halim",
    "Nugroho",
    "Siregar",
    "Gunawan",
    "Tanjung",
    "Wibowo",
    "Setiawan",
    "Hakim",
    "Purnomo",
    "Simanjuntak",
    "Rahman",
    "",
]
CITIES = ["Jakarta Selatan", "Jakarta Barat", "Tangerang", "Depok", "Bekasi", None]
STAFF_NAMES = [
    ("Rani Kasir", "Kasir"),
    ("Dimas Barista", "Barista"),
    ("Sinta Kasir", "Kasir"),
    ("Owner Outlet", "Owner"),
]
OUTLET_NAMES = [
    "Kopi Nusantara",
    "Warung Senja",
    "Kedai Kopi Kita",
    "Rumah Makan Sambung",
    "Kafe Cerita",
    "Dapur Teduh",
]
AREAS = ["Kemang", "Senopati", "Tebet", "Kelapa Gading", "BSD", "Menteng", "Blok M"]


@dataclass
class Catalog:
    business: Json
    outlet: Json
    user: Json
    checkout_settings: Json
    categories: list[Json]
    items: list[Json]
    modifiers: list[Json]
    discounts: list[Json]
    taxes: list[Json]
    gratuities: list[Json]
    sales_types: list[Json]
    customers: list[Json]


class _Stamps:
    """Library timestamps: a random moment in the year before the generated month."""

    def __init__(self, rng: random.Random, before: datetime) -> None:
        self.rng, self.before = rng, before

    def past(self) -> datetime:
        return self.before - timedelta(
            seconds=self.rng.randint(3 * 86400, 400 * 86400),
            microseconds=self.rng.randint(0, 999_000),
        )

    def common(self, moment: datetime, outlet_id: int, business_id: int) -> Json:
        return {
            "business_id": business_id,
            "is_deleted": False,
            "created_at": iso_ms(moment),
            "updated_at": iso_ms(moment),
            "outlet_id": outlet_id,
            "guid": _guid(self.rng),
            "uniq_id": None,
            "synchronized_at": iso_ms(moment),
        }


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_catalog(
    rng: random.Random, *, start: datetime, products: int, customers: int, email: str
) -> Catalog:
    stamps = _Stamps(rng, start)
    business_id = rng.randint(1000, 99999)
    outlet_id = rng.randint(1000, 99999)
    ids = count(rng.randint(100_000, 900_000) * 10)
    outlet_name = f"{rng.choice(OUTLET_NAMES)} {rng.choice(AREAS)}"
    opened = start - timedelta(days=rng.randint(400, 1500))
    business = {
        "id": business_id,
        "name": outlet_name.split(" ")[0] + " " + outlet_name.split(" ")[1],
        "address": f"Jl. {rng.choice(AREAS)} Raya No. {rng.randint(1, 120)}",
        "suite": "",
        "city": "Jakarta Selatan",
        "province": "DKI Jakarta",
        "postal_code": "12730",
        "description": "Kafe dan restoran",
        "email": email,
        "phone": "0217" + str(rng.randint(100000, 999999)),
        "logo": None,
        "notify_per_deposit": None,
        "notify_per_trans": None,
        "user_id": rng.randint(1000, 99999),
        "is_deleted": False,
        "created_at": iso_ms(opened),
        "updated_at": iso_ms(opened),
        "business_type_id": None,
        "business_category_id": 3,
        "website": "",
        "twitter": "",
        "facebook": "",
        "instagram": "",
        "notes": None,
        "latitude": -6.26,
        "longitude": 106.81,
        "synchronized_at": iso_ms(opened),
        "outlet_slot": 1,
        "is_trial": False,
        "current_plan": 12,
        "expired_at": iso_ms(start + timedelta(days=365)),
        "last_payment_date": None,
        "trial_end_at": iso_ms(opened + timedelta(days=30)),
    }
    outlet = {
        "id": outlet_id,
        "business_id": business_id,
        "name": outlet_name,
        "address": business["address"],
        "phone_number": business["phone"],
        "city": "Jakarta Selatan",
        "province": "DKI Jakarta",
        "postal_code": "12730",
        "latitude": -6.26,
        "longitude": 106.81,
        "is_deleted": False,
        "created_at": iso_ms(opened),
        "updated_at": iso_ms(opened),
        "synchronized_at": iso_ms(opened),
        "importing": False,
        "exporting": False,
        "notes": None,
        "start_date": iso_ms(opened),
        "end_date": iso_ms(start + timedelta(days=365)),
        "is_paying": True,
    }
    user_id = business["user_id"]
    user = {
        "id": user_id,
        "email": email,
        "first_name": "Owner",
        "last_name": outlet_name.split(" ")[-1],
        "full_name": "Owner",
        "business_id": business_id,
        "business_name": business["name"],
        "outlet_ids": [outlet_id],
        "outlet_names": [outlet_name],
    }

    def common() -> Json:
        return stamps.common(stamps.past(), outlet_id, business_id)

    sales_types = []
    gratuity_rate = rng.choice([Decimal(5), Decimal("7.5"), Decimal(10)])
    gratuities = [
        {
            "id": next(ids),
            "name": "Service Charge",
            "amount": money(gratuity_rate),
            **common(),
            "deleted_at": None,
        }
    ]
    gratuities[0] = _reorder(gratuities[0], ["id", "name", "amount"])
    for position, name in enumerate(SALES_TYPES):
        attached = gratuities if name == "Dine In" else []
        moment = stamps.past()
        sales_types.append(
            {
                "id": next(ids),
                "name": name,
                "is_deleted": False,
                "default_state": position == 0,
                "active_state": True,
                "gratuity_applied_count": len(attached),
                # Sales-type gratuities carry their rate as a string (reference §7).
                "gratuities": [
                    {"id": g["id"], "name": g["name"], "amount": f"{g['amount']:g}"}
                    for g in attached
                ],
                "business_id": business_id,
                "outlet_id": outlet_id,
                "created_at": iso_ms(moment),
                "updated_at": iso_ms(moment),
            }
        )
    taxes = [
        _reorder(
            {"id": next(ids), "name": "PB1", "amount": 10.0, **common()}, ["id", "name", "amount"]
        ),
        _reorder(
            {"id": next(ids), "name": "Retribusi", "amount": 2.5, **common()},
            ["id", "name", "amount"],
        ),
    ]
    discounts = []
    for name, kind, value in DISCOUNTS:
        fmt = f"Rp. {int(value):,}".replace(",", ".") if kind == "cash" else f"{value:g}%"
        row = {
            "id": next(ids),
            "name": name,
            "amount": money(value),
            "type": kind,
            **common(),
            "amount_format": fmt,
        }
        row["guid"] = row["guid"].upper()
        discounts.append(row)

    categories = []
    for name, *_ in CATEGORIES:
        categories.append({"id": next(ids), "name": name, "description": None, **common()})
    modifiers = _modifier_groups(rng, ids, common)
    items = _items(rng, ids, common, products, categories, modifiers, sales_types)
    for group in modifiers:
        group["active_item_modifiers"] = [
            {
                "id": next(ids),
                "item_id": item["id"],
                "modifier_id": group["id"],
                "is_deleted": False,
                "created_at": item["created_at"],
                "updated_at": item["created_at"],
                "synchronized_at": item["created_at"],
            }
            for item in items
            if any(m["id"] == group["id"] for m in item["active_modifiers"])
        ]
    customer_rows = _customers(rng, ids, stamps, customers, business_id, outlet_id, start)
    settings = {
        "enable_tax": True,
        "enable_gratuity": True,
        "include_gratuity_tax": False,
        "enable_rounding": True,
    }
    return Catalog(
        business,
        outlet,
        user,
        settings,
        categories,
        items,
        modifiers,
        discounts,
        taxes,
        gratuities,
        sales_types,
        customer_rows,
    )


def _reorder(row: Json, first: list[str]) -> Json:
    return {**{k: row[k] for k in first}, **{k: v for k, v in row.items() if k not in first}}


def _modifier_groups(rng: random.Random, ids: Any, common: Any) -> list[Json]:
    groups = []
    for name, minimum, options in MODIFIER_GROUPS:
        group = {"id": next(ids), "name": name, **common()}
        group = _reorder(group, ["id", "business_id", "name", "is_deleted"])
        group["min_no_of_options"] = minimum
        group["max_no_of_options"] = 1
        group["active_options"] = [
            {
                "id": next(ids),
                "modifier_id": group["id"],
                "name": option,
                "price": price,
                "is_deleted": False,
                "created_at": group["created_at"],
                "updated_at": group["created_at"],
                "position": position,
                "cogs": None,
                "outlet_id": group["outlet_id"],
                "synchronized_at": group["created_at"],
                "guid": None,
                "uniq_id": None,
            }
            for position, (option, price) in enumerate(options, start=1)
        ]
        groups.append(group)
    return groups


def _variant_count(rng: random.Random, scheme: str) -> list[tuple[str, int]]:
    choices = VARIANT_SCHEMES[scheme]
    weights = [5, 3, 3, 2, 1][: len(choices)]
    return rng.choices(choices, weights=weights)[0]


def _items(
    rng: random.Random,
    ids: Any,
    common: Any,
    products: int,
    categories: list[Json],
    modifiers: list[Json],
    sales_types: list[Json],
) -> list[Json]:
    by_name = {g["name"]: g for g in modifiers}
    pools = []
    for (_, bases, flavours, _, _, _), category in zip(CATEGORIES, categories, strict=True):
        names = [f"{base} {flavour}".strip() for base in bases for flavour in flavours]
        rng.shuffle(names)
        pools.append((category, names))
    category_weights = [22, 12, 10, 8, 18, 10, 9, 7, 2, 2]
    items: list[Json] = []
    made = 0
    while made < products:
        index = rng.choices(range(len(CATEGORIES)), weights=category_weights)[0]
        category, names = pools[index]
        name = names.pop() if names else f"{category['name']} {len(items) + 1}"
        _, _, _, (low, high), scheme, groups = CATEGORIES[index]
        variants = _variant_count(rng, scheme)[: products - made]
        base_price = rng.randint(low * 2, high * 2) * 500
        item = build_item(
            rng,
            ids,
            common,
            name,
            category,
            variants,
            base_price,
            [by_name[g] for g in groups if rng.random() < 0.7],
            sales_types,
            tracked=CATEGORIES[index][0] in ("Roti & Kue", "Merchandise"),
            code=f"{CATEGORIES[index][0][:3].upper()}-{len(items) + 1:04d}",
        )
        items.append(item)
        made += len(variants)
    return items


def build_item(
    rng: random.Random,
    ids: Any,
    common: Any,
    name: str,
    category: Json,
    variants: list[tuple[str, int]],
    base_price: int,
    groups: list[Json],
    sales_types: list[Json],
    *,
    tracked: bool,
    code: str,
) -> Json:
    stamp = common()
    item_id = next(ids)
    by_sales_type = rng.random() < 0.15
    item_variants = []
    for position, (variant_name, step) in enumerate(variants):
        price = base_price + step * 1000
        online = price + (price // 5 // 500) * 500  # delivery platforms charge about 20% more
        cogs = (price * rng.randint(25, 45) // 100 // 100) * 100
        sku = (
            "" if rng.random() < 0.3 else f"{code}{'-' + str(position + 1) if variant_name else ''}"
        )
        item_variants.append(
            {
                "id": next(ids),
                "name": variant_name,
                "sku": sku,
                "price": price,
                "in_stock": rng.randint(0, 200) if tracked else 0,
                "stock_alert": 0,
                "position": position,
                "item_id": item_id,
                "is_deleted": False,
                "created_at": stamp["created_at"],
                "updated_at": stamp["updated_at"],
                "add_inventory": 0,
                "track_stock": tracked,
                "alert": tracked,
                "cogs": cogs,
                "synchronized_at": stamp["synchronized_at"],
                "last_modified": None,
                "outlet_id": stamp["outlet_id"],
                "guid": None,
                "uniq_id": None,
                "track_cogs": tracked,
                "is_saved": True,
                "sales_type_items": [
                    {
                        **({"is_default": True} if st["default_state"] else {}),
                        "sales_type_id": st["id"],
                        "sales_type_name": st["name"],
                        "sales_type_price": online
                        if by_sales_type and st["name"] in ONLINE_SALES_TYPES
                        else price,
                    }
                    for st in sales_types
                ],
            }
        )
    return {
        "id": item_id,
        "name": name,
        "description": None,
        "image": None,
        "business_id": stamp["business_id"],
        "category_id": category["id"],
        "is_deleted": False,
        "is_recipe": False,
        "is_sales_type_price": by_sales_type,
        "created_at": stamp["created_at"],
        "updated_at": stamp["updated_at"],
        "background_color": "",
        "alert": False,
        "outlet_id": stamp["outlet_id"],
        "guid": stamp["guid"],
        "uniq_id": None,
        "synchronized_at": stamp["synchronized_at"],
        "category": dict(category),
        "item_variants": item_variants,
        "active_modifiers": [
            {
                "id": g["id"],
                "business_id": g["business_id"],
                "name": g["name"],
                "created_at": g["created_at"],
                "updated_at": g["updated_at"],
                "outlet_id": g["outlet_id"],
                "guid": g["guid"],
                "synchronized_at": g["synchronized_at"],
                "modifier_options": [
                    {
                        k: o[k]
                        for k in (
                            "id",
                            "modifier_id",
                            "name",
                            "price",
                            "created_at",
                            "updated_at",
                            "outlet_id",
                            "synchronized_at",
                            "cogs",
                            "guid",
                            "is_deleted",
                            "uniq_id",
                        )
                    }
                    for o in g["active_options"]
                ],
                "is_deleted": False,
                "uniq_id": None,
            }
            for g in groups
        ],
        "is_ecommerce": False,
        "brand_id": None,
        "principal_id": None,
        "principal_name": None,
        "condition": None,
        "weight": None,
        "height": None,
        "width": None,
        "length": None,
        "pre_order_days": None,
        "images": [],
    }


def _customers(
    rng: random.Random,
    ids: Any,
    stamps: _Stamps,
    wanted: int,
    business_id: int,
    outlet_id: int,
    start: datetime,
) -> list[Json]:
    rows = []
    names: list[str] = []
    for number in range(wanted):
        # About one name in twelve repeats an earlier customer's: Jurnal names must be unique.
        if names and rng.random() < 0.08:
            name = rng.choice(names)
        else:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}".strip()
        names.append(name)
        created = stamps.past()
        member = rng.random() < 0.45
        handle = name.lower().replace(" ", ".")
        rows.append(
            {
                "id": next(ids),
                "email": f"{handle}{number}@example.co.id" if rng.random() < 0.6 else None,
                "name": name,
                "phone": f"+62812{rng.randint(10_000_000, 99_999_999)}"
                if rng.random() < 0.8
                else None,
                "address": f"Jl. Melati No. {rng.randint(1, 99)}" if rng.random() < 0.2 else None,
                "city": rng.choice(CITIES) if rng.random() < 0.3 else None,
                "state": None,
                "postal_code": None,
                "business_id": business_id,
                "outlet_id": outlet_id,
                "birthday": None,
                "is_deleted": False,
                "created_at": iso_ms(created),
                "updated_at": iso_ms(created),
                "synchronized_at": iso_ms(created),
                "loyalty": {"point_balance": rng.randint(0, 500), "join_date": iso_ms(created)}
                if member
                else None,
            }
        )
    return rows


def staff_members(rng: random.Random) -> list[tuple[int, str, str]]:
    return [(rng.randint(1000, 99999), name, title) for name, title in STAFF_NAMES]
