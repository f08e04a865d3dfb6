//! The local renderer's time for one 1024 px render of the example sketch (target < 300 ms),
//! median of 15 runs after 2 warm-ups.

use std::time::Instant;

use facetra_core::studio::providers::local::render;
use facetra_core::studio::providers::ImageRequest;

fn main() {
    let sketch = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/sketch.png"
    ))
    .expect("examples/sketch.png");
    for aspect in ["4:3", "1:1", "16:9"] {
        let req = ImageRequest {
            sketch: sketch.clone(),
            references: vec![],
            prompt: "a teal velvet sofa with oak arms, brass lamp, marble side table, linen rug"
                .into(),
            style: None,
            aspect_ratio: aspect.into(),
            variant: 0,
        };
        let mut times = Vec::new();
        for i in 0..17 {
            let started = Instant::now();
            let out = render(&req).expect("render");
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let (_, w, h) = facetra_core::studio::providers::identify(&out.bytes).unwrap();
            assert!(w.max(h) >= 1024);
            if i >= 2 {
                times.push(ms);
            }
        }
        times.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        println!(
            "| {aspect} | {:.0} ms | {:.0} ms |",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
}
