// 20 mm calibration cube
cube([20, 20, 20], center = false);
