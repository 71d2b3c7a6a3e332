/*
 * Webhook endpoints: URL rules and the validation handshake (reference §7.3), with libcurl.
 *
 * The handshake runs on the request thread that creates (or re-points) a subscription: it
 * blocks that request only, for at most the validation timeout.
 */
#include "notify/notify.h"
#include "util/buf.h"
#include "util/ids.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of a handshake answer kept; a longer body cannot be the token. */
#define HANDSHAKE_BODY_MAX 1024

/* Compares host names ignoring case and IPv6 brackets. */
static bool host_equal(const char *a, size_t alen, const char *b) {
  if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
    a++;
    alen -= 2;
  }
  size_t blen = strlen(b);
  if (blen >= 2 && b[0] == '[' && b[blen - 1] == ']') {
    b++;
    blen -= 2;
  }
  return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* True when host is one of the comma-separated names in allow. */
static bool host_allowed(const char *host, const char *allow) {
  const char *p = allow;
  while (*p) {
    while (*p == ',' || isspace((unsigned char)*p)) p++;
    const char *start = p;
    while (*p && *p != ',') p++;
    const char *end = p;
    while (end > start && isspace((unsigned char)end[-1])) end--;
    if (end > start && host_equal(start, (size_t)(end - start), host)) return true;
  }
  return false;
}

/* Checks a webhook URL (see notify.h). */
bool webhook_url_check(const char *url, const char *allow_hosts, char *err, size_t errlen) {
  if (!url || !*url) {
    snprintf(err, errlen, "the URL is empty");
    return false;
  }
  if (strlen(url) > NOTIFY_URL_MAX) {
    snprintf(err, errlen, "the URL is longer than %d characters", NOTIFY_URL_MAX);
    return false;
  }
  for (const char *p = url; *p; p++) {
    if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
      snprintf(err, errlen, "the URL contains a space or a control character");
      return false;
    }
  }
  CURLU *u = curl_url();
  if (!u) abort();
  bool ok = false;
  char *scheme = NULL, *user = NULL, *password = NULL, *host = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    snprintf(err, errlen, "'%s' is not an absolute http or https URL", url);
    goto done;
  }
  if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
    snprintf(err, errlen, "only http and https URLs are accepted, not '%s'", scheme ? scheme : "");
    goto done;
  }
  if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
      curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
    snprintf(err, errlen, "the URL must not carry credentials (user:password@)");
    goto done;
  }
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
    snprintf(err, errlen, "the URL has no host");
    goto done;
  }
  if (allow_hosts && *allow_hosts && !host_allowed(host, allow_hosts)) {
    snprintf(err, errlen, "host '%s' is not in the webhook allow-list of this server", host);
    goto done;
  }
  ok = true;
done:
  curl_free(scheme);
  curl_free(user);
  curl_free(password);
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

typedef struct {
  char   body[HANDSHAKE_BODY_MAX + 1];
  size_t len;
  bool   too_long;
} answer_t;

static size_t answer_write(char *data, size_t size, size_t nmemb, void *arg) {
  answer_t *a = arg;
  size_t n = size * nmemb;
  if (a->len + n > HANDSHAKE_BODY_MAX) {
    a->too_long = true;
    return 0;  /* stops the transfer: a body this long is not the token */
  }
  memcpy(a->body + a->len, data, n);
  a->len += n;
  a->body[a->len] = '\0';
  return n;
}

/* Appends up to 60 characters of s with anything unprintable as '?', for messages. */
static void quote_excerpt(buf_t *b, const char *s, size_t len) {
  buf_putc(b, '"');
  for (size_t i = 0; i < len && i < 60; i++) {
    unsigned char ch = (unsigned char)s[i];
    buf_putc(b, ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '?');
  }
  if (len > 60) buf_puts(b, "...");
  buf_putc(b, '"');
}

/* The URL with validationToken=<encoded token> appended to its query; NULL when it cannot be
 * built. The caller frees it with curl_free. */
static char *handshake_url(const char *url, const char *token) {
  CURLU *u = curl_url();
  if (!u) abort();
  char *out = NULL;
  char *enc = curl_easy_escape(NULL, token, 0);
  buf_t q = BUF_INIT;
  buf_printf(&q, "validationToken=%s", enc ? enc : "");
  if (enc && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_QUERY, q.data, CURLU_APPENDQUERY) == CURLUE_OK)
    curl_url_get(u, CURLUPART_URL, &out, 0);
  curl_free(enc);
  buf_free(&q);
  curl_url_cleanup(u);
  return out;
}

/* Runs the validation handshake (see notify.h). */
bool webhook_validate(const char *url, int timeout_ms, char *err, size_t errlen) {
  /* Graph's token is readable text with spaces and a colon, so receivers must decode it. */
  char guid[ID_GUID_LEN + 1];
  id_guid(guid);
  char token[160];
  snprintf(token, sizeof token,
           "Validation: Testing client application reachability for subscription Request-Id: %s",
           guid);
  char *target = handshake_url(url, token);
  if (!target) {
    snprintf(err, errlen, "the validation URL could not be built from '%s'", url);
    return false;
  }

  CURL *h = curl_easy_init();
  if (!h) abort();
  answer_t ans = {.len = 0};
  char curl_err[CURL_ERROR_SIZE] = "";
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: text/plain");
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, target);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "spoold-webhook/1");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, answer_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
  CURLcode rc = curl_easy_perform(h);

  long status = 0;
  char *ctype = NULL;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
  bool ok = false;
  buf_t b = BUF_INIT;
  if (rc == CURLE_WRITE_ERROR && ans.too_long) {
    buf_printf(&b, "answered HTTP %ld with a body longer than %d bytes instead of the "
               "validationToken", status, HANDSHAKE_BODY_MAX);
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    if (timeout_ms % 1000 == 0)
      buf_printf(&b, "did not answer the validation request within %d s", timeout_ms / 1000);
    else
      buf_printf(&b, "did not answer the validation request within %d ms", timeout_ms);
  } else if (rc == CURLE_COULDNT_CONNECT) {
    buf_printf(&b, "could not be reached: connection refused or unreachable (%s)",
               curl_err[0] ? curl_err : curl_easy_strerror(rc));
  } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
    buf_printf(&b, "could not be reached: its host name does not resolve");
  } else if (rc != CURLE_OK) {
    buf_printf(&b, "could not be reached: %s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
  } else if (status != 200) {
    buf_printf(&b, "answered HTTP %ld to the validation request; it must answer 200 OK with "
               "the validationToken as text/plain", status);
  } else if (!ctype || strncasecmp(ctype, "text/plain", 10) != 0 ||
             (ctype[10] && ctype[10] != ';' && !isspace((unsigned char)ctype[10]))) {
    buf_printf(&b, "answered 200 with Content-Type '%s'; it must be text/plain",
               ctype ? ctype : "(none)");
  } else if (ans.len != strlen(token) || memcmp(ans.body, token, ans.len) != 0) {
    buf_puts(&b, "answered 200 but its body ");
    quote_excerpt(&b, ans.body, ans.len);
    buf_puts(&b, " is not the URL-decoded validationToken");
  } else {
    ok = true;
  }
  if (!ok) snprintf(err, errlen, "%s", b.data ? b.data : "failed");
  buf_free(&b);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  curl_free(target);
  return ok;
}
