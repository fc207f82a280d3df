# sphere_stl.awk - writes an ASCII STL of a closed UV sphere, the model of
# bench/bench_model.sh: radius r mm, resting on z = 0, n bands of 2n
# quads (2 triangles each; one at each pole).  r = 20, n = 48 gives
# 9,024 facets, 1.6 MB, which PrusaSlicer slices in 2-3 s on one core
# of the project's machine.
#
#   awk -v r=20 -v n=48 [-v name=NAME] -f bench/sphere_stl.awk >model.stl
#
# name goes on the "solid" line: two spheres of different names are the
# same geometry (the same slicing time) with different bytes, so a model
# cache keyed by the file's SHA-256 sees two models.
BEGIN {
    pi = atan2(0, -1)
    if (!n) n = 48
    if (!r) r = 20
    if (name == "") name = "sphere"
    print "solid " name
    for (i = 0; i < n; i++) {
        t0 = pi * i / n; t1 = pi * (i + 1) / n
        for (j = 0; j < 2 * n; j++) {
            p0 = pi * j / n; p1 = pi * (j + 1) / n
            vertex(1, t0, p0); vertex(2, t1, p0)
            vertex(3, t1, p1); vertex(4, t0, p1)
            if (i > 0) facet(1, 2, 4)           # none at the top pole
            if (i < n - 1) facet(2, 3, 4)       # none at the bottom one
        }
    }
    print "endsolid " name
}

function vertex(k, t, p) {
    X[k] = r * sin(t) * cos(p)
    Y[k] = r * sin(t) * sin(p)
    Z[k] = r + r * cos(t)
}

# a facet a, b, c counter-clockwise seen from outside, its normal outward
function facet(a, b, c,    ux, uy, uz, wx, wy, wz, nx, ny, nz, l) {
    ux = X[b] - X[a]; uy = Y[b] - Y[a]; uz = Z[b] - Z[a]
    wx = X[c] - X[a]; wy = Y[c] - Y[a]; wz = Z[c] - Z[a]
    nx = uy * wz - uz * wy; ny = uz * wx - ux * wz; nz = ux * wy - uy * wx
    l = sqrt(nx * nx + ny * ny + nz * nz)
    if (l == 0) l = 1
    printf "facet normal %g %g %g\n outer loop\n", nx / l, ny / l, nz / l
    printf "  vertex %.6f %.6f %.6f\n", X[a], Y[a], Z[a]
    printf "  vertex %.6f %.6f %.6f\n", X[b], Y[b], Z[b]
    printf "  vertex %.6f %.6f %.6f\n", X[c], Y[c], Z[c]
    print " endloop\nendfacet"
}
