/*
 * medusa.c - a Medusa v1 seed file (`data/seed.json` of the Medusa starter)
 * turned into a Strata seed document, with the semantics of Medusa 1.20's
 * `medusa seed` (packages/medusa/src/commands/seed.ts and the services it
 * calls), so `strata seed` loads it into Strata's Medusa-like schema and
 * `strata seed convert` shows the mapping.
 *
 * What Medusa does through its services is spelled out as rows:
 *
 *  - What a Medusa server creates when it first starts, and the seed relies
 *    on: the store, the payment and fulfillment providers the regions name
 *    (plugins register them; `manual` is built in), the default and
 *    gift-card shipping profiles, the default sales channel. These are
 *    insert_missing by a natural key (upsert for the store, which the seed
 *    updates), so an existing database keeps its own.
 *  - Ids are `prefix_` + ULID (`{"$id": "reg"}`), except ids the file gives
 *    that look like real ones (`reg_...`, `pcat_...`), which are kept.
 *    Region ids that are placeholders (`test-region-eu`) become aliases, and
 *    the shipping options and prices that name them refer to the generated
 *    ids.
 *  - The user's password becomes `{"$password": ...}`: a scrypt-kdf hash
 *    (logN 1, r 1, p 1) as Medusa's UserService makes it.
 *  - Region countries are `update`s of the country rows the migrations made.
 *  - A product gets its images (image rows shared by URL), options,
 *    categories, the default sales channel and its shipping profile (the
 *    gift-card one for gift cards); each variant gets one option value per
 *    product option, matched by position as Medusa does, and its prices as
 *    money_amount rows linked through product_variant_money_amount.
 *  - Categories nest through `category_children`; their materialized path
 *    (mpath) is the chain of ids, as TypeORM's tree keeps it.
 *  - Ranks are numbered as Medusa's services number them, whatever the file
 *    says: a category's `rank` is its place among its siblings (0, 1, ...;
 *    ProductCategoryService.create counts the siblings already there), a
 *    variant's `variant_rank` its place in its product (0, 1, ...;
 *    ProductVariantService.create keeps only a non-zero rank it is given).
 *  - What the services normalise is normalised here too: e-mail addresses
 *    and currency codes are lower-cased, a gift card is never discountable,
 *    a publishable API key's `created_by` is the seed's empty user id, and
 *    the link of a variant to a price has the id prefix `pvma__` (the
 *    ProductVariantMoneyAmount entity passes "pvma_" to generateEntityId,
 *    which adds a second underscore).
 *
 * Natural keys (user.email, region.name, product.handle, category handle,
 * shipping option name + region) make `--mode insert_missing` or `upsert`
 * repeatable, which Medusa's own seed is not.
 */
#include "seed.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const medusa_keys[] = {
    "store",
    "users",
    "regions",
    "shipping_options",
    "products",
    "categories",
    "product_collections",
    "publishable_api_keys",
    "rule_types",
};

int medusa_is_seed(const json_t *doc)
{
    if (!json_is_object(doc) || json_object_get(doc, "tables"))
        return 0;
    for (size_t i = 0; i < sizeof medusa_keys / sizeof medusa_keys[0]; i++)
        if (json_object_get(doc, medusa_keys[i]))
            return 1;
    return 0;
}

typedef struct conv {
    const char *path;
    json_t *tables;     /* the output list of table entries */
    json_t *regions;    /* given region id -> alias */
    json_t *categories; /* category id -> alias */
    json_t *images;     /* url -> alias */
    json_t *image_rows; /* the image entry's rows */
    json_t *tags;       /* value -> alias */
    json_t *tag_rows;
    json_t *types; /* value -> alias */
    json_t *type_rows;
    json_t *pay_providers; /* provider rows, by id */
    json_t *ful_providers;
    int ncategories;
} conv;

static int conv_error(const conv *c, const char *where, const char *what)
{
    return strata_set_error(STRATA_EINPUT, "%s: %s: %s (Medusa seed)", c->path, where, what);
}

static json_t *gen_id(const char *prefix)
{
    return json_pack("{s:s}", "$id", prefix);
}

static json_t *ref(const char *alias)
{
    return json_pack("{s:s}", "$ref", alias);
}

static json_t *entry(const char *table, const char *mode, const char *const *key, json_t *rows)
{
    json_t *e = json_object();
    json_object_set_new(e, "table", json_string(table));
    if (mode)
        json_object_set_new(e, "mode", json_string(mode));
    if (key) {
        json_t *k = json_array();
        for (size_t i = 0; key[i]; i++)
            json_array_append_new(k, json_string(key[i]));
        json_object_set_new(e, "key", k);
    }
    json_object_set_new(e, "rows", rows);
    return e;
}

/* Copy the plain fields of a Medusa object, leaving out `skip`. */
static void copy_fields(json_t *dst, const json_t *src, const char *const *skip)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        int skipped = 0;
        for (size_t i = 0; skip && skip[i]; i++)
            skipped |= !strcmp(k, skip[i]);
        if (!skipped)
            json_object_set(dst, k, v);
    }
}

/* An id the file gives is kept when it looks like a real one (prefix_...). */
static json_t *id_value(const json_t *given, const char *prefix)
{
    if (json_is_string(given)) {
        const char *s = json_string_value(given);
        size_t n = strlen(prefix);
        if (!strncmp(s, prefix, n) && s[n] == '_')
            return json_incref((json_t *)given);
    }
    return gen_id(prefix);
}

static void add_provider(json_t *rows, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i,
                       r) if (!strcmp(json_string_value(json_object_get(r, "id")), id)) return;
    json_array_append_new(rows, json_pack("{s:s, s:b}", "id", id, "is_installed", 1));
}

/* Medusa's kebab-case handle from a title (lodash kebabCase, ASCII). */
static json_t *handle_from(const char *title)
{
    sbuf b = SBUF_INIT;
    int dash = 0;
    for (const char *p = title; *p; p++) {
        if (isalnum((unsigned char)*p)) {
            if (dash && b.len)
                sbuf_addc(&b, '-');
            dash = 0;
            sbuf_addc(&b, (char)tolower((unsigned char)*p));
        } else {
            dash = 1;
        }
    }
    json_t *j = json_string(sbuf_str(&b));
    sbuf_free(&b);
    return j;
}

/* A lower-cased copy of a JSON string (currency codes, e-mails); other
 * values are returned as they are. */
static json_t *lower_value(const json_t *v)
{
    if (!json_is_string(v))
        return json_incref((json_t *)v);
    char *s = xstrdup(json_string_value(v));
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* Replace `key` of `row` by its lower-cased value, when it is there. */
static void lower_field(json_t *row, const char *key)
{
    json_t *v = json_object_get(row, key);
    if (v)
        json_object_set_new(row, key, lower_value(v));
}

static const char *const no_key[] = {NULL};

/* ---- the defaults a Medusa server creates at start ---- */

static void add_boot_defaults(conv *c, const json_t *store)
{
    static const char *const key_id[] = {"id", NULL};
    static const char *const key_type[] = {"type", NULL};
    static const char *const key_name[] = {"name", NULL};
    c->pay_providers = json_array();
    c->ful_providers = json_array();
    add_provider(c->pay_providers, "manual");
    add_provider(c->ful_providers, "manual");
    json_array_append_new(c->tables, entry("payment_provider", "insert_missing", key_id,
                                           json_incref(c->pay_providers)));
    json_array_append_new(c->tables, entry("fulfillment_provider", "insert_missing", key_id,
                                           json_incref(c->ful_providers)));
    json_t *profiles = json_array();
    json_array_append_new(profiles, json_pack("{s:s, s:o, s:s, s:s}", "$as", "profile:default",
                                              "id", gen_id("sp"), "name",
                                              "Default Shipping Profile", "type", "default"));
    json_array_append_new(profiles, json_pack("{s:s, s:o, s:s, s:s}", "$as", "profile:gift_card",
                                              "id", gen_id("sp"), "name", "Gift Card Profile",
                                              "type", "gift_card"));
    json_array_append_new(c->tables,
                          entry("shipping_profile", "insert_missing", key_type, profiles));
    json_t *channels = json_array();
    json_array_append_new(channels,
                          json_pack("{s:s, s:o, s:s, s:s, s:b}", "$as", "sales_channel:default",
                                    "id", gen_id("sc"), "name", "Default Sales Channel",
                                    "description", "Created by Medusa", "is_disabled", 0));
    json_array_append_new(c->tables, entry("sales_channel", "insert_missing", key_name, channels));

    /* The store: created if missing, then updated with the file's fields
     * (storeService.update); `currencies` replaces store_currencies. */
    static const char *const skip[] = {"currencies", "id", NULL};
    json_t *row = json_pack("{s:s, s:o, s:o}", "$as", "store", "id", gen_id("store"),
                            "default_sales_channel_id", ref("sales_channel:default"));
    if (json_is_object(store))
        copy_fields(row, store, skip);
    lower_field(row, "default_currency_code");
    json_t *cur = json_object_get(store, "currencies");
    json_t *sc = json_array();
    if (json_is_array(cur)) {
        size_t i;
        json_t *code;
        json_array_foreach(cur, i, code)
        {
            if (json_is_string(code))
                json_array_append_new(sc, json_pack("{s:o}", "currency_code", lower_value(code)));
        }
    } else {
        json_array_append_new(sc, json_pack("{s:s}", "currency_code", "usd"));
    }
    json_object_set_new(row, "$children", json_pack("{s:o}", "store_currencies", sc));
    json_t *rows = json_array();
    json_array_append_new(rows, row);
    json_array_append_new(c->tables, entry("store", "upsert", no_key, rows));
}

/* ---- users ---- */

static int add_users(conv *c, const json_t *users)
{
    static const char *const key[] = {"email", NULL};
    static const char *const skip[] = {"password", "id", NULL};
    json_t *rows = json_array();
    size_t i;
    json_t *u;
    json_array_foreach((json_t *)users, i, u)
    {
        if (!json_is_object(u)) {
            json_decref(rows);
            return conv_error(c, "users", "each user is an object");
        }
        json_t *row = json_pack("{s:o}", "id", id_value(json_object_get(u, "id"), "usr"));
        copy_fields(row, u, skip);
        lower_field(row, "email"); /* UserService.create: validateEmail lower-cases */
        json_t *pw = json_object_get(u, "password");
        if (json_is_string(pw))
            json_object_set_new(row, "password_hash", json_pack("{s:O}", "$password", pw));
        json_array_append_new(rows, row);
    }
    json_array_append_new(c->tables, entry("user", NULL, key, rows));
    return 0;
}

/* ---- regions ---- */

static int add_regions(conv *c, const json_t *regions)
{
    static const char *const key[] = {"name", NULL};
    static const char *const skip[] = {"id", "countries", "payment_providers",
                                       "fulfillment_providers", NULL};
    json_t *rows = json_array();
    json_t *updates = json_array();
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)regions, i, r)
    {
        if (!json_is_object(r)) {
            json_decref(rows);
            json_decref(updates);
            return conv_error(c, "regions", "each region is an object");
        }
        char alias[32];
        snprintf(alias, sizeof alias, "region:%zu", i);
        json_t *given = json_object_get(r, "id");
        if (json_is_string(given))
            json_object_set_new(c->regions, json_string_value(given), json_string(alias));
        json_t *row = json_pack("{s:s, s:o}", "$as", alias, "id", id_value(given, "reg"));
        copy_fields(row, r, skip);
        lower_field(row, "currency_code");
        json_t *children = json_object();
        const char *kinds[2] = {"payment_providers", "fulfillment_providers"};
        const char *tables[2] = {"region_payment_providers", "region_fulfillment_providers"};
        for (int k = 0; k < 2; k++) {
            json_t *list = json_object_get(r, kinds[k]);
            json_t *links = json_array();
            size_t j;
            json_t *p;
            json_array_foreach(list, j, p)
            {
                if (!json_is_string(p))
                    continue;
                add_provider(k ? c->ful_providers : c->pay_providers, json_string_value(p));
                json_array_append_new(links, json_pack("{s:O}", "provider_id", p));
            }
            if (json_array_size(links))
                json_object_set_new(children, tables[k], links);
            else
                json_decref(links);
        }
        if (json_object_size(children))
            json_object_set_new(row, "$children", children);
        else
            json_decref(children);
        json_t *countries = json_object_get(r, "countries");
        size_t j;
        json_t *code;
        json_array_foreach(countries, j, code)
        {
            if (!json_is_string(code))
                continue;
            char lower[8];
            snprintf(lower, sizeof lower, "%s", json_string_value(code));
            for (char *p = lower; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            json_array_append_new(updates, json_pack("{s:{s:s}, s:{s:o}}", "where", "iso_2", lower,
                                                     "set", "region_id", ref(alias)));
        }
        json_array_append_new(rows, row);
    }
    json_array_append_new(c->tables, entry("region", NULL, key, rows));
    if (json_array_size(updates))
        json_array_append_new(c->tables,
                              json_pack("{s:s, s:o}", "table", "country", "update", updates));
    else
        json_decref(updates);
    return 0;
}

/* A region id in a shipping option or price: the alias of a region of the
 * file, or the id itself (a region already in the database). */
static json_t *region_ref(conv *c, const json_t *id)
{
    json_t *alias = json_is_string(id) ? json_object_get(c->regions, json_string_value(id)) : NULL;
    if (alias)
        return ref(json_string_value(alias));
    return json_incref((json_t *)id);
}

/* ---- shipping options ---- */

static int add_shipping_options(conv *c, const json_t *options)
{
    static const char *const key[] = {"name", "region_id", NULL};
    static const char *const skip[] = {"id",           "region_id",  "is_giftcard",
                                       "requirements", "profile_id", NULL};
    json_t *rows = json_array();
    size_t i;
    json_t *so;
    json_array_foreach((json_t *)options, i, so)
    {
        if (!json_is_object(so)) {
            json_decref(rows);
            return conv_error(c, "shipping_options", "each shipping option is an object");
        }
        json_t *row = json_pack("{s:o}", "id", id_value(json_object_get(so, "id"), "so"));
        copy_fields(row, so, skip);
        json_object_set_new(row, "region_id", region_ref(c, json_object_get(so, "region_id")));
        json_t *profile = json_object_get(so, "profile_id");
        if (profile)
            json_object_set(row, "profile_id", profile);
        else
            json_object_set_new(row, "profile_id",
                                ref(json_is_true(json_object_get(so, "is_giftcard"))
                                        ? "profile:gift_card"
                                        : "profile:default"));
        json_t *reqs = json_object_get(so, "requirements");
        if (json_is_array(reqs) && json_array_size(reqs)) {
            json_t *rr = json_array();
            size_t j;
            json_t *q;
            json_array_foreach(reqs, j, q)
            {
                json_t *req = json_pack("{s:o}", "id", gen_id("sor"));
                static const char *const rskip[] = {"id", NULL};
                copy_fields(req, q, rskip);
                json_array_append_new(rr, req);
            }
            json_object_set_new(row, "$children",
                                json_pack("{s:o}", "shipping_option_requirement", rr));
        }
        json_array_append_new(rows, row);
    }
    json_array_append_new(c->tables, entry("shipping_option", NULL, key, rows));
    return 0;
}

/* ---- categories ---- */

/* One category and its children. `rank` is its place among its siblings:
 * ProductCategoryService.create sets rank to the number of categories that
 * already have the same parent, replacing any rank the file gives. */
static int add_category(conv *c, const json_t *cat, json_t *rows, const json_t *parent_path,
                        size_t rank, const char *where)
{
    if (!json_is_object(cat))
        return conv_error(c, where, "a category is an object");
    static const char *const skip[] = {"id", "category_children", "parent_category_id", NULL};
    char alias[32];
    snprintf(alias, sizeof alias, "category:%d", c->ncategories++);
    json_t *given = json_object_get(cat, "id");
    json_t *id = id_value(given, "pcat");
    if (json_is_string(given))
        json_object_set_new(c->categories, json_string_value(given), json_string(alias));
    json_t *row = json_pack("{s:s, s:o}", "$as", alias, "id", json_incref(id));
    copy_fields(row, cat, skip);
    if (!json_object_get(row, "handle") && json_is_string(json_object_get(cat, "name")))
        json_object_set_new(row, "handle",
                            handle_from(json_string_value(json_object_get(cat, "name"))));
    json_object_set_new(row, "rank", json_integer((json_int_t)rank));
    /* the seed command: is_active = params.is_active || true */
    json_object_set_new(row, "is_active", json_true());
    if (!json_object_get(row, "is_internal"))
        json_object_set_new(row, "is_internal", json_false());
    /* mpath: the ids from the root, each followed by a dot */
    json_t *path = json_array();
    if (parent_path)
        json_array_extend(path, (json_t *)parent_path);
    char idref[48];
    snprintf(idref, sizeof idref, "%s.id", alias);
    json_array_append_new(path, json_is_string(id) ? json_incref(id) : ref(idref));
    json_array_append_new(path, json_string("."));
    int literal = 1;
    size_t i;
    json_t *p;
    json_array_foreach(path, i, p) literal &= json_is_string(p);
    if (literal) {
        sbuf b = SBUF_INIT;
        json_array_foreach(path, i, p) sbuf_add(&b, json_string_value(p));
        json_object_set_new(row, "mpath", json_string(sbuf_str(&b)));
        sbuf_free(&b);
    } else {
        json_object_set_new(row, "mpath", json_pack("{s:O}", "$concat", path));
    }
    json_t *kids = json_object_get(cat, "category_children");
    if (json_is_array(kids) && json_array_size(kids)) {
        json_t *child_rows = json_array();
        json_array_foreach(kids, i, p)
        {
            char *w = xasprintf("%s.category_children[%zu]", where, i);
            int rc = add_category(c, p, child_rows, path, i, w);
            free(w);
            if (rc) {
                json_decref(child_rows);
                json_decref(path);
                json_decref(id);
                json_decref(row);
                return rc;
            }
        }
        json_object_set_new(row, "$children",
                            json_pack("{s:o}", "product_category.parent_category_id", child_rows));
    }
    json_array_append_new(rows, row);
    json_decref(path);
    json_decref(id);
    return 0;
}

static int add_categories(conv *c, const json_t *cats)
{
    static const char *const key[] = {"handle", NULL};
    json_t *rows = json_array();
    size_t i;
    json_t *cat;
    json_array_foreach((json_t *)cats, i, cat)
    {
        char w[48];
        snprintf(w, sizeof w, "categories[%zu]", i);
        int rc = add_category(c, cat, rows, NULL, i, w);
        if (rc) {
            json_decref(rows);
            return rc;
        }
    }
    json_array_append_new(c->tables, entry("product_category", NULL, key, rows));
    return 0;
}

static int add_collections(conv *c, const json_t *cols)
{
    static const char *const key[] = {"handle", NULL};
    static const char *const skip[] = {"id", NULL};
    json_t *rows = json_array();
    size_t i;
    json_t *col;
    json_array_foreach((json_t *)cols, i, col)
    {
        if (!json_is_object(col))
            continue;
        json_t *row = json_pack("{s:o}", "id", id_value(json_object_get(col, "id"), "pcol"));
        copy_fields(row, col, skip);
        if (!json_object_get(row, "handle") && json_is_string(json_object_get(col, "title")))
            json_object_set_new(row, "handle",
                                handle_from(json_string_value(json_object_get(col, "title"))));
        json_array_append_new(rows, row);
    }
    json_array_append_new(c->tables, entry("product_collection", NULL, key, rows));
    return 0;
}

/* ---- products ---- */

static const char *image_alias(conv *c, const char *url)
{
    json_t *a = json_object_get(c->images, url);
    if (!a) {
        char alias[32];
        snprintf(alias, sizeof alias, "image:%zu", json_object_size(c->images));
        a = json_string(alias);
        json_object_set_new(c->images, url, a);
        json_array_append_new(c->image_rows, json_pack("{s:s, s:o, s:s}", "$as", alias, "id",
                                                       gen_id("img"), "url", url));
    }
    return json_string_value(a);
}

/* A tag or type: an upserted row by value. */
static const char *value_alias(json_t *map, json_t *rows, const char *kind, const char *prefix,
                               const char *value)
{
    json_t *a = json_object_get(map, value);
    if (!a) {
        char alias[40];
        snprintf(alias, sizeof alias, "%s:%zu", kind, json_object_size(map));
        a = json_string(alias);
        json_object_set_new(map, value, a);
        json_array_append_new(
            rows, json_pack("{s:s, s:o, s:s}", "$as", alias, "id", gen_id(prefix), "value", value));
    }
    return json_string_value(a);
}

static json_t *price_row(conv *c, const json_t *price)
{
    static const char *const skip[] = {"id", "region_id", "currency_code", NULL};
    json_t *row = json_pack("{s:o}", "id", gen_id("ma"));
    json_t *region = json_object_get(price, "region_id");
    json_t *cur = json_object_get(price, "currency_code");
    if (cur)
        json_object_set_new(row, "currency_code", lower_value(cur));
    if (region) {
        json_t *r = region_ref(c, region);
        json_object_set_new(row, "region_id", r);
        if (!cur) {
            /* the region's currency, as MoneyAmount gets it */
            json_t *alias = json_is_string(region)
                                ? json_object_get(c->regions, json_string_value(region))
                                : NULL;
            if (alias) {
                char *ra = xasprintf("%s.currency_code", json_string_value(alias));
                json_object_set_new(row, "currency_code", ref(ra));
                free(ra);
            } else {
                json_object_set_new(row, "currency_code",
                                    json_pack("{s:{s:s, s:{s:O}, s:s}}", "$lookup", "table",
                                              "region", "where", "id", region, "column",
                                              "currency_code"));
            }
        }
    }
    copy_fields(row, price, skip);
    return row;
}

static int add_variant(conv *c, json_t *variants, const json_t *v, const char *product_alias,
                       size_t nopts, size_t index, const char *where)
{
    if (!json_is_object(v))
        return conv_error(c, where, "a variant is an object");
    static const char *const skip[] = {"id", "options", "prices", NULL};
    char alias[64];
    snprintf(alias, sizeof alias, "%s/variant:%zu", product_alias, index);
    json_t *row =
        json_pack("{s:s, s:o}", "$as", alias, "id", id_value(json_object_get(v, "id"), "variant"));
    copy_fields(row, v, skip);
    /* ProductVariantService.create: `if (!variant_rank) variant_rank = the
     * number of variants before it`, so a rank the file gives is kept only
     * when it is not falsy in JavaScript (0, "", null, false). */
    json_t *rank = json_object_get(v, "variant_rank");
    int given = (json_is_integer(rank) && json_integer_value(rank) != 0) ||
                (json_is_real(rank) && json_real_value(rank) != 0.0) || json_is_true(rank) ||
                (json_is_string(rank) && *json_string_value(rank));
    if (!given)
        json_object_set_new(row, "variant_rank", json_integer((json_int_t)index));
    if (!json_object_get(row, "inventory_quantity"))
        json_object_set_new(row, "inventory_quantity", json_integer(0));
    json_t *children = json_object();
    json_t *opts = json_object_get(v, "options");
    if (json_array_size(opts) > nopts) {
        json_decref(children);
        json_decref(row);
        return conv_error(c, where,
                          "the variant has more option values than its product has "
                          "options");
    }
    json_t *values = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(opts, i, o)
    {
        /* positional: the i-th value belongs to the i-th product option */
        char oa[80];
        snprintf(oa, sizeof oa, "%s/option:%zu", product_alias, i);
        json_t *val = json_object_get(o, "value");
        json_array_append_new(values, json_pack("{s:o, s:O, s:o}", "id", gen_id("optval"), "value",
                                                val ? val : json_null(), "option_id", ref(oa)));
    }
    if (json_array_size(values))
        json_object_set_new(children, "product_option_value", values);
    else
        json_decref(values);
    json_t *prices = json_object_get(v, "prices");
    json_t *links = json_array();
    json_t *p;
    json_array_foreach(prices, i, p)
    {
        if (!json_is_object(p))
            continue;
        json_array_append_new(links, json_pack("{s:o, s:{s:{s:s, s:o}}}", "id", gen_id("pvma_"),
                                               "money_amount_id", "$insert", "table",
                                               "money_amount", "row", price_row(c, p)));
    }
    if (json_array_size(links))
        json_object_set_new(children, "product_variant_money_amount.variant_id", links);
    else
        json_decref(links);
    if (json_object_size(children))
        json_object_set_new(row, "$children", children);
    else
        json_decref(children);
    json_array_append_new(variants, row);
    return 0;
}

static int add_products(conv *c, const json_t *products)
{
    static const char *const key[] = {"handle", NULL};
    static const char *const skip[] = {"id",         "variants", "images", "options",
                                       "categories", "tags",     "type",   "sales_channels",
                                       "profile_id", NULL};
    json_t *rows = json_array();
    size_t i;
    json_t *p;
    json_array_foreach((json_t *)products, i, p)
    {
        char where[48];
        snprintf(where, sizeof where, "products[%zu]", i);
        if (!json_is_object(p)) {
            json_decref(rows);
            return conv_error(c, where, "a product is an object");
        }
        char alias[32];
        snprintf(alias, sizeof alias, "product:%zu", i);
        json_t *row =
            json_pack("{s:s, s:o}", "$as", alias, "id", id_value(json_object_get(p, "id"), "prod"));
        copy_fields(row, p, skip);
        if (!json_object_get(row, "status"))
            json_object_set_new(row, "status", json_string("published"));
        /* ProductService.create: a gift card is never discountable */
        if (json_is_true(json_object_get(p, "is_giftcard")))
            json_object_set_new(row, "discountable", json_false());
        if (!json_is_string(json_object_get(row, "handle")) &&
            json_is_string(json_object_get(p, "title")))
            json_object_set_new(row, "handle",
                                handle_from(json_string_value(json_object_get(p, "title"))));
        json_t *children = json_object();
        /* images: shared image rows by URL; the thumbnail defaults to the first */
        json_t *images = json_object_get(p, "images");
        json_t *links = json_array();
        size_t j;
        json_t *x;
        json_array_foreach(images, j, x)
        {
            if (!json_is_string(x))
                continue;
            json_array_append_new(
                links, json_pack("{s:o}", "image_id", ref(image_alias(c, json_string_value(x)))));
            if (j == 0 && !json_object_get(row, "thumbnail"))
                json_object_set(row, "thumbnail", x);
        }
        if (json_array_size(links))
            json_object_set_new(children, "product_images", links);
        else
            json_decref(links);
        /* options, referred to by position from the variants */
        json_t *opts = json_object_get(p, "options");
        json_t *orows = json_array();
        json_array_foreach(opts, j, x)
        {
            char oa[80];
            snprintf(oa, sizeof oa, "%s/option:%zu", alias, j);
            json_t *t = json_object_get(x, "title");
            json_array_append_new(orows, json_pack("{s:s, s:o, s:O}", "$as", oa, "id",
                                                   gen_id("opt"), "title", t ? t : json_null()));
        }
        size_t nopts = json_array_size(orows);
        if (nopts)
            json_object_set_new(children, "product_option", orows);
        else
            json_decref(orows);
        /* categories */
        json_t *cats = json_object_get(p, "categories");
        json_t *crows = json_array();
        json_array_foreach(cats, j, x)
        {
            json_t *id = json_object_get(x, "id");
            json_t *ca =
                json_is_string(id) ? json_object_get(c->categories, json_string_value(id)) : NULL;
            if (ca)
                json_array_append_new(
                    crows, json_pack("{s:o}", "product_category_id", ref(json_string_value(ca))));
            else if (id)
                json_array_append_new(crows, json_pack("{s:O}", "product_category_id", id));
        }
        if (json_array_size(crows))
            json_object_set_new(children, "product_category_product", crows);
        else
            json_decref(crows);
        /* tags and type: rows shared by value */
        json_t *tags = json_object_get(p, "tags");
        json_t *trows = json_array();
        json_array_foreach(tags, j, x)
        {
            json_t *val = json_is_object(x) ? json_object_get(x, "value") : x;
            if (!json_is_string(val))
                continue;
            const char *ta =
                value_alias(c->tags, c->tag_rows, "tag", "ptag", json_string_value(val));
            json_array_append_new(trows, json_pack("{s:o}", "product_tag_id", ref(ta)));
        }
        if (json_array_size(trows))
            json_object_set_new(children, "product_tags", trows);
        else
            json_decref(trows);
        json_t *type = json_object_get(p, "type");
        json_t *tval = json_is_object(type) ? json_object_get(type, "value") : type;
        if (json_is_string(tval))
            json_object_set_new(
                row, "type_id",
                ref(value_alias(c->types, c->type_rows, "type", "ptyp", json_string_value(tval))));
        /* Medusa 1.20: every product goes to the default sales channel and
         * to its shipping profile (product_shipping_profile). The link has
         * an id only where the medusa_v2 flag added one (1698056997411). */
        json_object_set_new(children, "product_sales_channel.product_id",
                            json_pack("[{s:[s], s:o, s:o}]", "$optional", "id", "id",
                                      gen_id("prodsc"), "sales_channel_id",
                                      ref("sales_channel:default")));
        json_t *profile = json_object_get(p, "profile_id");
        json_object_set_new(children, "product_shipping_profile.product_id",
                            json_pack("[{s:o}]", "profile_id",
                                      profile ? json_incref(profile)
                                              : ref(json_is_true(json_object_get(p, "is_giftcard"))
                                                        ? "profile:gift_card"
                                                        : "profile:default")));
        /* variants */
        json_t *variants = json_object_get(p, "variants");
        json_t *vrows = json_array();
        json_array_foreach(variants, j, x)
        {
            char vw[80];
            snprintf(vw, sizeof vw, "%s.variants[%zu]", where, j);
            int rc = add_variant(c, vrows, x, alias, nopts, j, vw);
            if (rc) {
                json_decref(vrows);
                json_decref(children);
                json_decref(row);
                json_decref(rows);
                return rc;
            }
        }
        if (json_array_size(vrows))
            json_object_set_new(children, "product_variant", vrows);
        else
            json_decref(vrows);
        json_object_set_new(row, "$children", children);
        json_array_append_new(rows, row);
    }
    json_array_append_new(c->tables, entry("product", NULL, key, rows));
    return 0;
}

static int add_api_keys(conv *c, const json_t *keys)
{
    json_t *rows = json_array();
    size_t i;
    json_t *k;
    json_array_foreach((json_t *)keys, i, k)
    {
        static const char *const skip[] = {"id", NULL};
        json_t *row = json_pack("{s:o}", "id", id_value(json_object_get(k, "id"), "pk"));
        if (json_is_object(k))
            copy_fields(row, k, skip);
        /* the seed command creates keys with loggedInUserId "" */
        json_object_set_new(row, "created_by", json_string(""));
        json_object_set_new(row, "$children",
                            json_pack("{s:[{s:o, s:o}]}", "publishable_api_key_sales_channel", "id",
                                      gen_id("pksc"), "sales_channel_id",
                                      ref("sales_channel:default")));
        json_array_append_new(rows, row);
    }
    json_array_append_new(c->tables, entry("publishable_api_key", NULL, NULL, rows));
    return 0;
}

int medusa_convert(const json_t *doc, const char *path, json_t **out)
{
    *out = NULL;
    conv c;
    memset(&c, 0, sizeof c);
    c.path = path;
    c.tables = json_array();
    c.regions = json_object();
    c.categories = json_object();
    c.images = json_object();
    c.image_rows = json_array();
    c.tags = json_object();
    c.tag_rows = json_array();
    c.types = json_object();
    c.type_rows = json_array();
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof medusa_keys / sizeof medusa_keys[0]; i++)
            known |= !strcmp(k, medusa_keys[i]);
        if (!known) {
            const char *near =
                str_nearest(k, medusa_keys, sizeof medusa_keys / sizeof medusa_keys[0]);
            rc = strata_set_error(STRATA_EINPUT,
                                  "%s: unknown key '%s' in a Medusa seed%s%s%s (Medusa 1.20 "
                                  "reads store, users, regions, shipping_options, products, "
                                  "categories, product_collections, publishable_api_keys, "
                                  "rule_types)",
                                  path, k, near ? " (did you mean '" : "", near ? near : "",
                                  near ? "'?)" : "");
            break;
        }
        if (strcmp(k, "store") != 0 && !json_is_array(v)) {
            char *w = xasprintf("%s", k);
            rc = conv_error(&c, w, "needs a list");
            free(w);
            break;
        }
    }
    if (!rc)
        add_boot_defaults(&c, json_object_get(doc, "store"));
    if (!rc && json_object_get(doc, "users"))
        rc = add_users(&c, json_object_get(doc, "users"));
    if (!rc && json_object_get(doc, "regions"))
        rc = add_regions(&c, json_object_get(doc, "regions"));
    if (!rc && json_object_get(doc, "shipping_options"))
        rc = add_shipping_options(&c, json_object_get(doc, "shipping_options"));
    if (!rc && json_object_get(doc, "categories"))
        rc = add_categories(&c, json_object_get(doc, "categories"));
    if (!rc && json_object_get(doc, "product_collections"))
        rc = add_collections(&c, json_object_get(doc, "product_collections"));
    size_t images_at = json_array_size(c.tables);
    if (!rc && json_object_get(doc, "products"))
        rc = add_products(&c, json_object_get(doc, "products"));
    if (!rc && json_array_size(c.image_rows)) {
        static const char *const url[] = {"url", NULL};
        json_array_insert_new(c.tables, images_at,
                              entry("image", "insert_missing", url, json_incref(c.image_rows)));
    }
    if (!rc && json_array_size(c.tag_rows)) {
        static const char *const val[] = {"value", NULL};
        json_array_insert_new(c.tables, images_at,
                              entry("product_tag", "insert_missing", val, json_incref(c.tag_rows)));
    }
    if (!rc && json_array_size(c.type_rows)) {
        static const char *const val[] = {"value", NULL};
        json_array_insert_new(
            c.tables, images_at,
            entry("product_type", "insert_missing", val, json_incref(c.type_rows)));
    }
    if (!rc && json_array_size(json_object_get(doc, "publishable_api_keys")))
        rc = add_api_keys(&c, json_object_get(doc, "publishable_api_keys"));
    if (!rc && json_array_size(json_object_get(doc, "rule_types")))
        rc = conv_error(&c, "rule_types",
                        "rule types belong to Medusa's pricing module (MedusaV2 flag), which "
                        "the Medusa-like schema does not have");
    json_decref(c.pay_providers);
    json_decref(c.ful_providers);
    json_decref(c.regions);
    json_decref(c.categories);
    json_decref(c.images);
    json_decref(c.image_rows);
    json_decref(c.tags);
    json_decref(c.tag_rows);
    json_decref(c.types);
    json_decref(c.type_rows);
    if (rc) {
        json_decref(c.tables);
        return rc;
    }
    *out =
        json_pack("{s:i, s:s, s:o}", "version", 1, "description",
                  "converted from a Medusa seed file by strata seed convert", "tables", c.tables);
    return 0;
}
