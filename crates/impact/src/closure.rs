//! The closure rule (README.md, "Impact analysis"): from the directly affected packages,
//! follow reverse normal and build edges transitively; then add the packages that dev-depend on
//! anything in that set, one hop only (a dev-dependency reaches only the dependent's own tests).

use std::collections::VecDeque;

use crate::graph::EdgeKind;

/// How a package was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    /// 0 for a seed, +1 per reverse edge.
    pub distance: u32,
    /// The package it was reached from and the edge kind (`None` for a seed).
    pub via: Option<(usize, EdgeKind)>,
}

/// `edges[i]` lists `(dependency, kind)` for package `i`. Returns, for each package, how it was
/// reached, or `None` when it is not affected. Runs in O(V + E).
pub fn affected(edges: &[Vec<(usize, EdgeKind)>], seeds: &[usize]) -> Vec<Option<Reached>> {
    let n = edges.len();
    let mut reverse_build: Vec<Vec<(usize, EdgeKind)>> = vec![Vec::new(); n];
    let mut reverse_dev: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (dependent, deps) in edges.iter().enumerate() {
        for &(dependency, kind) in deps {
            match kind {
                EdgeKind::Dev => reverse_dev[dependency].push(dependent),
                _ => reverse_build[dependency].push((dependent, kind)),
            }
        }
    }
    let mut reached: Vec<Option<Reached>> = vec![None; n];
    let mut queue = VecDeque::new();
    for &seed in seeds {
        if reached[seed].is_none() {
            reached[seed] = Some(Reached {
                distance: 0,
                via: None,
            });
            queue.push_back(seed);
        }
    }
    let mut order = Vec::new();
    while let Some(current) = queue.pop_front() {
        order.push(current);
        let distance = reached[current]
            .expect("queued packages are reached")
            .distance;
        for &(dependent, kind) in &reverse_build[current] {
            if reached[dependent].is_none() {
                reached[dependent] = Some(Reached {
                    distance: distance + 1,
                    via: Some((current, kind)),
                });
                queue.push_back(dependent);
            }
        }
    }
    // One hop of dev-dependents; `order` is by increasing distance, so the first hit is nearest.
    for current in order {
        let distance = reached[current]
            .expect("ordered packages are reached")
            .distance;
        for &dependent in &reverse_dev[current] {
            if reached[dependent].is_none() {
                reached[dependent] = Some(Reached {
                    distance: distance + 1,
                    via: Some((current, EdgeKind::Dev)),
                });
            }
        }
    }
    reached
}
