/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS-SD TXT record of a printer share (ipp/dnssd.h): keys and values built from the share
 * and its printer's capabilities; the daemon side is tested by tests/ipp/dnssd-run.sh.
 */
#include "ipp/dnssd.h"

#include <criterion/criterion.h>
#include <string.h>

/* The value of key in v[0..n), or NULL. */
static const char *txt_get(char **v, size_t n, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; i < n; i++)
    if (!strncmp(v[i], key, kl) && v[i][kl] == '=') return v[i] + kl + 1;
  return NULL;
}

Test(dnssd, txt_of_a_colour_duplex_urf_printer) {
  store_share_advert_t a = {
      .share_id = "5b039b96-5047-4794-a96e-afa10d607a1f", .name = "Floor 2",
      .manufacturer = "Contoso", .model = "Everywhere 1",
      .location = "{\"building\":\"B1\",\"floor\":\"2\"}",
      .capabilities = "{\"contentTypes\":[\"application/pdf\",\"image/urf\"],"
                      "\"colorModes\":[\"grayscale\",\"color\"],"
                      "\"duplexModes\":[\"oneSided\",\"flipOnLongEdge\"],"
                      "\"dpis\":[300,600],\"mediaSizes\":[\"A4\",\"A3\"]}"};
  char *v[IPP_DNSSD_TXT_MAX];
  size_t n = ipp_dnssd_txt(&a, "https://print.example.com", true, v);
  cr_assert_str_eq(v[0], "txtvers=1");
  cr_assert_str_eq(txt_get(v, n, "rp"), "ipp/share/5b039b96-5047-4794-a96e-afa10d607a1f");
  cr_assert_str_eq(txt_get(v, n, "UUID"), "5b039b96-5047-4794-a96e-afa10d607a1f");
  cr_assert_str_eq(txt_get(v, n, "ty"), "Contoso Everywhere 1");
  cr_assert_str_eq(txt_get(v, n, "product"), "(Everywhere 1)");
  cr_assert_str_eq(txt_get(v, n, "note"), "B1, 2");
  cr_assert_str_eq(txt_get(v, n, "adminurl"),
                   "https://print.example.com/ipp/share/5b039b96-5047-4794-a96e-afa10d607a1f");
  cr_assert_str_eq(txt_get(v, n, "pdl"), "application/pdf,image/urf");
  cr_assert_str_eq(txt_get(v, n, "Color"), "T");
  cr_assert_str_eq(txt_get(v, n, "Duplex"), "T");
  cr_assert_str_eq(txt_get(v, n, "URF"), "V1.4,W8,SRGB24,CP1,RS300-600,DM1");
  cr_assert_str_eq(txt_get(v, n, "PaperMax"), "tabloid-A3");
  cr_assert_str_eq(txt_get(v, n, "air"), "username,password");
  cr_assert_str_eq(txt_get(v, n, "TLS"), "1.2");
  ipp_dnssd_txt_free(v, n);
}

Test(dnssd, txt_of_a_printer_that_never_reported) {
  store_share_advert_t a = {.share_id = "0f1e2d3c-4b5a-4968-8776-655443322110", .name = "X"};
  char *v[IPP_DNSSD_TXT_MAX];
  size_t n = ipp_dnssd_txt(&a, "http://127.0.0.1:8080", false, v);
  cr_assert_str_eq(txt_get(v, n, "ty"), "spoold printer share");
  cr_assert_null(txt_get(v, n, "product"));
  cr_assert_null(txt_get(v, n, "note"), "no location, no note");
  cr_assert_str_eq(txt_get(v, n, "pdl"), "application/pdf,application/oxps");
  cr_assert_str_eq(txt_get(v, n, "Color"), "F");
  cr_assert_str_eq(txt_get(v, n, "Duplex"), "F");
  cr_assert_null(txt_get(v, n, "URF"), "no image/urf, no URF key");
  cr_assert_str_eq(txt_get(v, n, "PaperMax"), "legal-A4");
  cr_assert_null(txt_get(v, n, "TLS"), "plain _ipp._tcp has no TLS key");
  for (size_t i = 0; i < n; i++) cr_assert_leq(strlen(v[i]), 255);
  ipp_dnssd_txt_free(v, n);
}
