; small.gcode - hand-written test print: one 20 mm square, two layers
; for rrcloud's printrun tests (nothing is heated above room temperature)
G21 ; millimetres
G90 ; absolute positioning
M82 ; absolute extrusion
M104 S0
M140 S0
G28 ; home
G92 E0
G1 Z0.3 F1200
G1 X10 Y10 F6000
G1 X30 Y10 E0.8 F1200 ; first side
G1 X30 Y30 E1.6
G1 X10 Y30 E2.4
G1 X10 Y10 E3.2
G1 Z0.5 F1200
G1 X30 Y10 E4.0 F1200
G1 X30 Y30 E4.8
G1 X10 Y30 E5.6
G1 X10 Y10 E6.4
G92 E0
G1 E-1 F2400 ; retract
G1 Z10 F1200
M84 ; motors off
