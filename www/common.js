/*
 * common.js - what the page's other scripts share: DOM building, the
 * server's JSON over fetch, the admin token kept in this browser, links
 * from checked URLs.  index.html loads it first, then tasks.js, fleet.js
 * and page.js (all with defer, in that order); each adds its part to the
 * one namespace, window.rrcloud, and touches no DOM until page.js starts.
 * No framework and no network beyond this server.  Everything the server
 * sends is inserted as text (textContent), never as HTML, and links are
 * made only from URLs checked here (safeLink, taskLink).
 */
(function (R) {
    'use strict';

    var TOKEN_KEY = 'rrcloud.adminToken';

    /* --- small helpers ---------------------------------------------------- */

    function $(id) { return document.getElementById(id); }

    /* el('td', {className: 'x'}, 'text' | Node | [children]) */
    function el(tag, props, content) {
        var e = document.createElement(tag);
        Object.keys(props || {}).forEach(function (k) { e[k] = props[k]; });
        append(e, content);
        return e;
    }

    function append(parent, content) {
        if (content === undefined || content === null) {
            return;
        }
        if (Array.isArray(content)) {
            content.forEach(function (c) { append(parent, c); });
        } else if (typeof content === 'object' && content.nodeType) {
            parent.appendChild(content);
        } else {
            parent.appendChild(document.createTextNode(String(content)));
        }
    }

    function clear(node) { node.textContent = ''; }

    function show(node, on) { node.hidden = !on; }

    /* kind 'info' shows a neutral notice instead of an error. */
    function setError(node, msg, kind) {
        node.textContent = msg || '';
        node.className = kind === 'info' ? 'notice' : 'error';
        show(node, !!msg);
    }

    /* A link only for http(s) URLs; anything else stays text.  Without a
     * text the link shows the URL without its scheme. */
    function safeLink(url, text) {
        var u;
        if (typeof url !== 'string' || !url) {
            return text || '';
        }
        try {
            u = new URL(url, window.location.href);
        } catch (e) {
            return text || url;
        }
        if (u.protocol !== 'http:' && u.protocol !== 'https:') {
            return text || url;
        }
        return el('a', { href: u.href, rel: 'noopener noreferrer', title: u.href },
                  text || u.host + (u.pathname === '/' ? '' : u.pathname));
    }

    /* A link to one of the server's own task paths ("tasks/out/X"). */
    function taskLink(path, text) {
        if (typeof path !== 'string' || !/^\/?tasks\/(out|log)\/[^\/?#]+$/.test(path)) {
            return '';
        }
        return el('a', { href: '/' + path.replace(/^\//, '') }, text);
    }

    /* Seconds since the epoch from a number, a numeric string, or an ISO
     * date; null if none.  Values above 1e12 are taken as milliseconds. */
    function toEpoch(v) {
        var n;
        if (v === null || v === undefined || v === '') {
            return null;
        }
        if (typeof v === 'number' || /^\d+(\.\d+)?$/.test(String(v))) {
            n = Number(v);
            return n > 1e12 ? n / 1000 : n;
        }
        n = Date.parse(String(v));
        return isNaN(n) ? null : n / 1000;
    }

    function fmtTime(epoch) {
        var d, now;
        if (!epoch) {
            return '';
        }
        d = new Date(epoch * 1000);
        now = new Date();
        if (d.toDateString() === now.toDateString()) {
            return d.toLocaleTimeString();
        }
        return d.toLocaleString();
    }

    function fmtDuration(s) {
        if (s === null || s === undefined || !isFinite(s) || s < 0) {
            return '';
        }
        if (s < 10) {
            return s.toFixed(1) + ' s';
        }
        if (s < 120) {
            return Math.round(s) + ' s';
        }
        if (s < 7200) {
            return Math.round(s / 60) + ' min';
        }
        if (s < 172800) {
            return (s / 3600).toFixed(1) + ' h';
        }
        return Math.round(s / 86400) + ' d';
    }

    function fmtAgo(epoch) {
        return epoch ? fmtDuration(Math.max(0, Date.now() / 1000 - epoch)) + ' ago' : 'never';
    }

    /* Only [a-z0-9-] may become part of a class name. */
    function classPart(s) {
        return String(s || 'unknown').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
    }

    function pick(o) {
        var i, v;
        for (i = 1; i < arguments.length; i++) {
            v = o ? o[arguments[i]] : undefined;
            if (v !== undefined && v !== null && v !== '') {
                return v;
            }
        }
        return undefined;
    }

    /* The list in an answer: the array itself or the first array member
     * among the given keys. */
    function listOf(j) {
        var i;
        if (Array.isArray(j)) {
            return j;
        }
        for (i = 1; i < arguments.length; i++) {
            if (j && Array.isArray(j[arguments[i]])) {
                return j[arguments[i]];
            }
        }
        return [];
    }

    function asText(v) {
        if (v === undefined || v === null) {
            return '';
        }
        if (Array.isArray(v)) {
            return v.map(asText).join(', ');
        }
        if (typeof v === 'object') {
            return asText(pick(v, 'name', 'id'));
        }
        return String(v);
    }

    /* --- HTTP --------------------------------------------------------------- */

    function HttpError(status, message, field) {
        this.status = status;
        this.message = message;
        this.field = field;
    }

    /* fetch + JSON; rejects with HttpError carrying the server's
     * {"error":{"message","field"}} when it sent one. */
    function getJson(url, opts) {
        opts = opts || {};
        opts.headers = opts.headers || {};
        opts.headers.Accept = 'application/json';
        opts.credentials = 'same-origin';
        return fetch(url, opts).then(function (res) {
            return res.text().then(function (text) {
                var j = null;
                try {
                    j = text ? JSON.parse(text) : null;
                } catch (e) {
                    j = null;
                }
                if (!res.ok || (j && j.error && typeof j.error === 'object')) {
                    var err = j && j.error ? j.error : {};
                    throw new HttpError(res.status,
                        asText(err.message) || res.status + ' ' + res.statusText,
                        asText(err.field));
                }
                if (j === null && text) {
                    throw new HttpError(res.status, 'the server did not answer JSON');
                }
                return j;
            });
        }, function () {
            throw new HttpError(0, 'cannot reach the server');
        });
    }

    function adminToken() {
        try {
            return window.localStorage.getItem(TOKEN_KEY) || '';
        } catch (e) {
            return '';
        }
    }

    function adminHeaders() {
        return adminToken() ? { Authorization: 'Bearer ' + adminToken() } : {};
    }

    /* Keeps token in this browser; false if the browser will not. */
    function saveAdminToken(token) {
        try {
            window.localStorage.setItem(TOKEN_KEY, token);
        } catch (e) {
            return false;
        }
        return true;
    }

    function forgetAdminToken() {
        try {
            window.localStorage.removeItem(TOKEN_KEY);
        } catch (e) { /* nothing kept */ }
    }

    R.$ = $;
    R.el = el;
    R.append = append;
    R.clear = clear;
    R.show = show;
    R.setError = setError;
    R.safeLink = safeLink;
    R.taskLink = taskLink;
    R.toEpoch = toEpoch;
    R.fmtTime = fmtTime;
    R.fmtDuration = fmtDuration;
    R.fmtAgo = fmtAgo;
    R.classPart = classPart;
    R.pick = pick;
    R.listOf = listOf;
    R.asText = asText;
    R.getJson = getJson;
    R.adminToken = adminToken;
    R.adminHeaders = adminHeaders;
    R.saveAdminToken = saveAdminToken;
    R.forgetAdminToken = forgetAdminToken;
    /* name -> restart function of each poller; page.js fills it at start,
     * the others call them when what they show has changed. */
    R.pollers = {};
}(window.rrcloud = window.rrcloud || {}));
