/* page_dom.js BASE TOKEN INDEX.HTML SCRIPT...: the page's scripts, loaded
 * in order into a fake DOM built from index.html's ids (no innerHTML), started
 * against the real server at BASE with TOKEN as the admin token (an extra
 * printer with a hostile name and share URL added to its answer), every tab
 * shown; prints what the page shows, "key: value" a line.  test_status.sh. */
'use strict';
var fs = require('fs');
var argv = process.argv.slice(2);
var BASE = argv[0], TOKEN = argv[1], html = fs.readFileSync(argv[2], 'utf8');
var realTimeout = setTimeout, realFetch = fetch;
var timers = [];
var byId = {};

function Elem(tag) {
    this.tagName = tag.toUpperCase();
    this.nodeType = 1;
    this.childNodes = [];
    this.attrs = {};
    this.listeners = {};
    this.className = '';
    this.hidden = false;
    this.value = '';
    var self = this;
    this.classList = {
        add: function (c) { self.className += ' ' + c; },
        remove: function (c) {
            self.className = self.className.split(' ').filter(function (x) {
                return x !== c;
            }).join(' ');
        }
    };
}
function Text(s) { this.nodeType = 3; this.data = s; this.childNodes = []; }
Object.defineProperty(Text.prototype, 'textContent', { get: function () { return this.data; } });
['innerHTML', 'outerHTML'].forEach(function (p) {
    Object.defineProperty(Elem.prototype, p, {
        get: function () { throw new Error(p + ' read'); },
        set: function () { throw new Error(p + ' set: server data as HTML'); }
    });
});
Elem.prototype.insertAdjacentHTML = function () { throw new Error('insertAdjacentHTML'); };
Object.defineProperty(Elem.prototype, 'textContent', {
    get: function () {
        return this.childNodes.map(function (c) { return c.textContent; }).join('');
    },
    set: function (s) { this.childNodes = s === '' ? [] : [new Text(String(s))]; }
});
Object.defineProperty(Elem.prototype, 'tBodies', {
    get: function () {
        if (!this.tbody) { this.tbody = new Elem('tbody'); this.childNodes.push(this.tbody); }
        return [this.tbody];
    }
});
Object.defineProperty(Elem.prototype, 'options', {
    get: function () {
        return this.childNodes.filter(function (c) { return c.tagName === 'OPTION'; });
    }
});
Elem.prototype.appendChild = function (c) {
    if (c.tagName === '#FRAGMENT') {
        c.childNodes.forEach(function (x) { this.childNodes.push(x); }, this);
        c.childNodes = [];
    } else {
        this.childNodes.push(c);
    }
    return c;
};
Elem.prototype.setAttribute = function (k, v) { this.attrs[k] = String(v); };
Elem.prototype.getAttribute = function (k) { return k in this.attrs ? this.attrs[k] : null; };
Elem.prototype.addEventListener = function (t, fn) {
    (this.listeners[t] = this.listeners[t] || []).push(fn);
};
Elem.prototype.focus = function () {};
function walk(n, fn) {
    n.childNodes.forEach(function (c) {
        if (c.nodeType === 1) { fn(c); walk(c, fn); }
    });
}
/* '.cls', 'tag.cls', 'tag[type=x]' */
function matches(n, sel) {
    var m = /^(\w*)(?:\.([\w-]+))?(?:\[type=(\w+)\])?$/.exec(sel);
    if (!m) { throw new Error('selector ' + sel); }
    return (!m[1] || n.tagName === m[1].toUpperCase()) &&
        (!m[2] || (' ' + n.className + ' ').indexOf(' ' + m[2] + ' ') >= 0) &&
        (!m[3] || n.type === m[3]);
}
Elem.prototype.querySelectorAll = function (sel) {
    var out = [];
    walk(this, function (n) { if (matches(n, sel)) { out.push(n); } });
    return out;
};
Elem.prototype.querySelector = function (sel) { return this.querySelectorAll(sel)[0] || null; };

var tabs = [];
html.replace(/<(\w+)([^>]*)>/g, function (all, tag, attrs) {
    var id = /\sid="([^"]+)"/.exec(attrs), e;
    if (id) {
        e = byId[id[1]] = new Elem(tag);
        e.id = id[1];
        e.hidden = /\shidden[\s>]/.test(attrs + '>');
        (/\sdata-tab="(\w+)"/.exec(attrs) || []).slice(1).forEach(function (t) {
            e.setAttribute('data-tab', t);
            tabs.push(e);
        });
    }
});

var docListeners = {};
global.document = {
    readyState: 'interactive',
    hidden: false,
    getElementById: function (id) { return byId[id] || null; },
    createElement: function (t) { return new Elem(t); },
    createTextNode: function (s) { return new Text(s); },
    createDocumentFragment: function () { return new Elem('#fragment'); },
    querySelectorAll: function (sel) {
        if (sel === '[role=tab]') { return tabs; }
        var out = [];
        Object.keys(byId).forEach(function (k) {
            if (matches(byId[k], sel)) { out.push(byId[k]); }
        });
        return out;
    },
    addEventListener: function (t, fn) { (docListeners[t] = docListeners[t] || []).push(fn); }
};
var store = { 'rrcloud.adminToken': TOKEN };
global.window = {
    location: { href: BASE + '/www/index.html#fleet', hash: '#fleet' },
    history: { replaceState: function (a, b, h) { window.location.hash = h; } },
    localStorage: {
        getItem: function (k) { return k in store ? store[k] : null; },
        setItem: function (k, v) { store[k] = String(v); },
        removeItem: function (k) { delete store[k]; }
    },
    addEventListener: function () {},
    setTimeout: function (fn, ms) { timers.push(ms); return timers.length; },
    clearTimeout: function () {}
};
global.fetch = function (url, opts) {
    return realFetch(BASE + url, opts).then(function (res) {
        return res.text().then(function (text) {
            var j;
            if (url === '/api/v1/printers' && res.ok) {
                j = JSON.parse(text);
                (Array.isArray(j) ? j : j.printers).push({ id: 999, state: 'ready',
                    name: '<img src=x onerror=alert(1)>',
                    share_url: 'javascript:alert(1)' });
                text = JSON.stringify(j);
            }
            return { ok: res.ok, status: res.status, statusText: res.statusText,
                     text: function () { return Promise.resolve(text); } };
        });
    });
};

/* until the pollers of ms have run (they schedule their next run) */
function ran(ms, then) {
    var n = 100;
    (function wait() {
        if (timers.indexOf(ms) >= 0) { return then(); }
        if (--n === 0) {
            console.log('error: the ' + ms + ' ms poller never ended');
            process.exit(1);
        }
        realTimeout(wait, 100);
    })();
}
function rows(id) {
    return byId[id].tBodies[0].childNodes.map(function (tr) {
        return tr.childNodes.map(function (td) { return td.textContent; }).join(' | ');
    });
}

argv.slice(3).forEach(function (f) { require(f); });
ran(5000, function () {          // fleet, shown by #fleet
    ran(30000, function () {     // meta, always
        tabs.filter(function (b) { return b.getAttribute('data-tab') === 'tasks'; })[0]
            .listeners.click[0]();
        ran(2000, function () {  // tasks, once its tab is shown
            var links = [];
            Object.keys(byId).forEach(function (k) {
                walk(byId[k], function (n) { if (n.tagName === 'A') { links.push(n.href); } });
            });
            rows('printers-table').forEach(function (r) { console.log('printer: ' + r); });
            rows('frontends-table').forEach(function (r) { console.log('frontend: ' + r); });
            rows('queues-table').forEach(function (r) { console.log('queue: ' + r); });
            console.log('tasks: ' + rows('tasks-table').length);
            console.log('services: ' + byId.service.options.map(function (o) {
                return o.value;
            }).join(' '));
            console.log('meta: ' + byId['meta-summary'].textContent);
            ['fleet-error', 'tasks-error', 'meta-error', 'submit-result'].forEach(function (k) {
                console.log(k + ': ' + byId[k].textContent);
            });
            links.forEach(function (h) { console.log('link: ' + h); });
            console.log('tab: ' + window.location.hash + ' ' + tabs.map(function (b) {
                return b.getAttribute('aria-selected');
            }).join(' '));
        });
    });
});
