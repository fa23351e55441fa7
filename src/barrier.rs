//! Shutdown phases and their blockers, in plain Rust (Firefox AsyncShutdown's
//! model): top-level phases run one after another; the blockers of one phase
//! run concurrently; a child phase is one blocker of its parent with
//! blockers of its own.
//!
//! The caller feeds calls in and pumps [`Barriers::next_event`] to learn what
//! to do (trigger a blocker, report a phase). Events are queued rather than
//! acted on inside a call, so a trigger that completes at once, or adds or
//! removes blockers, re-enters safely.

use std::collections::VecDeque;

use crate::uverr;

pub type PhaseId = usize;
pub type BlockerId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseState {
    Pending,
    Running,
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockerState {
    /// Added; its phase has not started.
    Pending,
    /// Triggered; waiting for it to report done.
    Waiting,
    Done,
    Removed,
    /// Given up by the watchdog (FORCE).
    Forced,
}

impl BlockerState {
    pub fn is_finished(self) -> bool {
        matches!(self, BlockerState::Done | BlockerState::Removed | BlockerState::Forced)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Call this blocker's trigger (it was waiting when the event was made;
    /// check it still is).
    Trigger(BlockerId),
    PhaseStarted(PhaseId),
    PhaseDone(PhaseId),
    /// The last top-level phase is done.
    AllDone,
}

pub struct Phase {
    pub name: String,
    /// For a child phase: its parent and the blocker that stands for it there.
    pub parent: Option<(PhaseId, BlockerId)>,
    pub state: PhaseState,
    pub blockers: Vec<BlockerId>,
    pub started_ms: Option<u64>,
    pub finished_ms: Option<u64>,
}

pub struct Blocker<T> {
    pub phase: PhaseId,
    pub name: String,
    /// Where it was added ("file:line"), for the report.
    pub location: String,
    pub state: BlockerState,
    /// The child phase this blocker stands for, if any.
    pub child: Option<PhaseId>,
    pub payload: T,
}

pub struct Barriers<T> {
    phases: Vec<Phase>,
    blockers: Vec<Blocker<T>>,
    /// Top-level phases in creation order.
    top: Vec<PhaseId>,
    /// Index into `top` of the running phase.
    current: usize,
    started: bool,
    finished: bool,
    events: VecDeque<Event>,
}

impl<T> Default for Barriers<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Barriers<T> {
    pub fn new() -> Self {
        Barriers { phases: Vec::new(), blockers: Vec::new(), top: Vec::new(), current: 0, started: false, finished: false, events: VecDeque::new() }
    }

    pub fn phase(&self, p: PhaseId) -> &Phase {
        &self.phases[p]
    }

    pub fn blocker(&self, b: BlockerId) -> &Blocker<T> {
        &self.blockers[b]
    }

    pub fn phase_count(&self) -> usize {
        self.phases.len()
    }

    pub fn blocker_count(&self) -> usize {
        self.blockers.len()
    }

    pub fn top_phases(&self) -> &[PhaseId] {
        &self.top
    }

    #[cfg(test)]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// A top-level phase; refused once the shutdown has started.
    pub fn new_phase(&mut self, name: &str) -> Result<PhaseId, i32> {
        if self.started {
            return Err(uverr::EALREADY);
        }
        let id = self.push_phase(name, None);
        self.top.push(id);
        Ok(id)
    }

    fn push_phase(&mut self, name: &str, parent: Option<(PhaseId, BlockerId)>) -> PhaseId {
        self.phases.push(Phase { name: name.to_owned(), parent, state: PhaseState::Pending, blockers: Vec::new(), started_ms: None, finished_ms: None });
        self.phases.len() - 1
    }

    /// A child phase of `parent`: one blocker there, with blockers of its own.
    pub fn new_child(&mut self, parent: PhaseId, name: &str, location: &str, payload: T, now: u64) -> Result<PhaseId, i32> {
        let b = self.add(parent, name, location, payload, true, now)?;
        Ok(self.blockers[b].child.expect("child blocker"))
    }

    /// Adds a blocker. Before its phase runs: triggered when it starts.
    /// While it runs: triggered at once. After: refused (`UV_EALREADY`).
    pub fn add_blocker(&mut self, phase: PhaseId, name: &str, location: &str, payload: T, now: u64) -> Result<BlockerId, i32> {
        self.add(phase, name, location, payload, false, now)
    }

    fn add(&mut self, phase: PhaseId, name: &str, location: &str, payload: T, is_child: bool, now: u64) -> Result<BlockerId, i32> {
        let state = self.phases.get(phase).ok_or(uverr::EINVAL)?.state;
        if state == PhaseState::Done {
            return Err(uverr::EALREADY);
        }
        let b = self.blockers.len();
        self.blockers.push(Blocker { phase, name: name.to_owned(), location: location.to_owned(), state: BlockerState::Pending, child: None, payload });
        if is_child {
            let child = self.push_phase(name, Some((phase, b)));
            self.blockers[b].child = Some(child);
        }
        self.phases[phase].blockers.push(b);
        if state == PhaseState::Running {
            self.trigger(b, now);
        }
        Ok(b)
    }

    /// Removes a blocker: never triggered if it was not yet; no longer
    /// waited for if it was. A child phase cannot be removed.
    pub fn remove_blocker(&mut self, phase: PhaseId, b: BlockerId, now: u64) -> Result<(), i32> {
        let bl = self.blockers.get(b).ok_or(uverr::EINVAL)?;
        if bl.phase != phase || bl.child.is_some() {
            return Err(uverr::EINVAL);
        }
        if bl.state.is_finished() {
            return Err(uverr::EALREADY);
        }
        self.blockers[b].state = BlockerState::Removed;
        self.settle(phase, now);
        Ok(())
    }

    /// The blocker's work is finished. Allowed before its trigger (work that
    /// finished early is simply never triggered); twice is `UV_EALREADY`.
    pub fn blocker_done(&mut self, b: BlockerId, now: u64) -> Result<(), i32> {
        let bl = self.blockers.get(b).ok_or(uverr::EINVAL)?;
        if bl.child.is_some() {
            return Err(uverr::EINVAL);
        }
        if bl.state.is_finished() {
            return Err(uverr::EALREADY);
        }
        let phase = bl.phase;
        self.blockers[b].state = BlockerState::Done;
        self.settle(phase, now);
        Ok(())
    }

    /// Starts the first phase (or finishes at once if there is none).
    pub fn start(&mut self, now: u64) -> Result<(), i32> {
        if self.started {
            return Err(uverr::EALREADY);
        }
        self.started = true;
        self.current = 0;
        self.start_current(now);
        Ok(())
    }

    fn start_current(&mut self, now: u64) {
        match self.top.get(self.current) {
            Some(&p) => self.start_phase(p, now),
            None => {
                self.finished = true;
                self.events.push_back(Event::AllDone);
            }
        }
    }

    fn start_phase(&mut self, p: PhaseId, now: u64) {
        self.phases[p].state = PhaseState::Running;
        self.phases[p].started_ms = Some(now);
        self.events.push_back(Event::PhaseStarted(p));
        for b in self.phases[p].blockers.clone() {
            if self.blockers[b].state == BlockerState::Pending {
                self.trigger(b, now);
            }
        }
        self.settle(p, now);
    }

    fn trigger(&mut self, b: BlockerId, now: u64) {
        self.blockers[b].state = BlockerState::Waiting;
        match self.blockers[b].child {
            Some(child) => self.start_phase(child, now),
            None => self.events.push_back(Event::Trigger(b)),
        }
    }

    /// Completes `p` if it runs and nothing in it is left, and moves on.
    fn settle(&mut self, p: PhaseId, now: u64) {
        let ph = &self.phases[p];
        if ph.state != PhaseState::Running || !ph.blockers.iter().all(|&b| self.blockers[b].state.is_finished()) {
            return;
        }
        self.phases[p].state = PhaseState::Done;
        self.phases[p].finished_ms = Some(now);
        self.events.push_back(Event::PhaseDone(p));
        match self.phases[p].parent {
            Some((parent, b)) => {
                if !self.blockers[b].state.is_finished() {
                    self.blockers[b].state = BlockerState::Done;
                }
                self.settle(parent, now);
            }
            None => {
                self.current += 1;
                self.start_current(now);
            }
        }
    }

    /// The watchdog gives up on every blocker still pending or waiting in a
    /// running phase (and in the phases still to come): each is marked
    /// forced and the phases complete. Returns the blockers it forced.
    pub fn force_all(&mut self, now: u64) -> Vec<BlockerId> {
        let mut forced = Vec::new();
        while !self.finished && self.started {
            let waiting: Vec<BlockerId> = (0..self.blockers.len())
                .filter(|&b| {
                    let bl = &self.blockers[b];
                    bl.child.is_none() && !bl.state.is_finished() && self.phases[bl.phase].state == PhaseState::Running
                })
                .collect();
            if waiting.is_empty() {
                break;
            }
            for b in waiting {
                self.blockers[b].state = BlockerState::Forced;
                forced.push(b);
                let phase = self.blockers[b].phase;
                self.settle(phase, now);
            }
        }
        forced
    }

    /// Blockers still waiting, in creation order (for reports).
    pub fn waiting(&self) -> impl Iterator<Item = BlockerId> + '_ {
        (0..self.blockers.len()).filter(|&b| self.blockers[b].state == BlockerState::Waiting && self.blockers[b].child.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(b: &mut Barriers<()>) -> Vec<Event> {
        std::iter::from_fn(|| b.next_event()).collect()
    }

    #[test]
    fn phases_run_in_order_and_blockers_concurrently() {
        let mut b = Barriers::new();
        let p1 = b.new_phase("first").unwrap();
        let p2 = b.new_phase("second").unwrap();
        let x = b.add_blocker(p1, "x", "a.c:1", (), 0).unwrap();
        let y = b.add_blocker(p1, "y", "a.c:2", (), 0).unwrap();
        let z = b.add_blocker(p2, "z", "a.c:3", (), 0).unwrap();
        assert!(drain(&mut b).is_empty(), "nothing triggers before start");
        b.start(10).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseStarted(p1), Event::Trigger(x), Event::Trigger(y)]);
        b.blocker_done(y, 11).unwrap();
        assert!(drain(&mut b).is_empty(), "x still blocks");
        b.blocker_done(x, 12).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseDone(p1), Event::PhaseStarted(p2), Event::Trigger(z)]);
        b.blocker_done(z, 13).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseDone(p2), Event::AllDone]);
        assert!(b.is_finished());
        assert_eq!(b.phase(p1).finished_ms, Some(12));
        assert_eq!(b.blocker_done(z, 14), Err(uverr::EALREADY), "done twice");
    }

    #[test]
    fn late_adds_removes_and_early_completion() {
        let mut b = Barriers::new();
        let p1 = b.new_phase("one").unwrap();
        let p2 = b.new_phase("two").unwrap();
        let removed = b.add_blocker(p1, "removed", "", (), 0).unwrap();
        let early = b.add_blocker(p1, "early", "", (), 0).unwrap();
        let keep = b.add_blocker(p1, "keep", "", (), 0).unwrap();
        b.remove_blocker(p1, removed, 0).unwrap();
        b.blocker_done(early, 0).unwrap();
        b.start(0).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseStarted(p1), Event::Trigger(keep)], "neither removed nor early-done is triggered");
        let late = b.add_blocker(p1, "late", "", (), 1).unwrap();
        assert_eq!(drain(&mut b), vec![Event::Trigger(late)], "added while running: triggered at once");
        b.blocker_done(keep, 2).unwrap();
        assert!(drain(&mut b).is_empty(), "the late one is waited for");
        b.remove_blocker(p1, late, 3).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseDone(p1), Event::PhaseStarted(p2), Event::PhaseDone(p2), Event::AllDone]);
        assert_eq!(b.add_blocker(p1, "too late", "", (), 4), Err(uverr::EALREADY));
        assert_eq!(b.remove_blocker(p1, late, 4), Err(uverr::EALREADY));
        assert_eq!(b.new_phase("after"), Err(uverr::EALREADY));
        assert_eq!(b.remove_blocker(p2, keep, 4), Err(uverr::EINVAL), "not that phase's");
    }

    #[test]
    fn children_complete_before_their_parent() {
        let mut b = Barriers::new();
        let top = b.new_phase("top").unwrap();
        let own = b.add_blocker(top, "own", "", (), 0).unwrap();
        let child = b.new_child(top, "child", "c.c:9", (), 0).unwrap();
        let grandchild = b.new_child(child, "grandchild", "", (), 0).unwrap();
        let deep = b.add_blocker(grandchild, "deep", "", (), 0).unwrap();
        let mid = b.add_blocker(child, "mid", "", (), 0).unwrap();
        b.start(0).unwrap();
        assert_eq!(
            drain(&mut b),
            vec![
                Event::PhaseStarted(top),
                Event::Trigger(own),
                Event::PhaseStarted(child),
                Event::PhaseStarted(grandchild),
                Event::Trigger(deep),
                Event::Trigger(mid)
            ]
        );
        b.blocker_done(own, 1).unwrap();
        b.blocker_done(mid, 1).unwrap();
        assert!(drain(&mut b).is_empty(), "grandchild still runs");
        b.blocker_done(deep, 2).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseDone(grandchild), Event::PhaseDone(child), Event::PhaseDone(top), Event::AllDone]);
    }

    #[test]
    fn child_added_to_a_running_phase_starts_at_once() {
        let mut b = Barriers::new();
        let top = b.new_phase("top").unwrap();
        let hold = b.add_blocker(top, "hold", "", (), 0).unwrap();
        b.start(0).unwrap();
        drain(&mut b);
        let child = b.new_child(top, "late child", "", (), 1).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseStarted(child), Event::PhaseDone(child)], "an empty child completes at once");
        b.blocker_done(hold, 2).unwrap();
        assert_eq!(drain(&mut b), vec![Event::PhaseDone(top), Event::AllDone]);
    }

    #[test]
    fn no_phases_finishes_at_once_and_force_completes_everything() {
        let mut b: Barriers<()> = Barriers::new();
        b.start(0).unwrap();
        assert_eq!(drain(&mut b), vec![Event::AllDone]);
        assert_eq!(b.start(0), Err(uverr::EALREADY));

        let mut b = Barriers::new();
        let p1 = b.new_phase("stuck").unwrap();
        let p2 = b.new_phase("also stuck").unwrap();
        let s1 = b.add_blocker(p1, "s1", "", (), 0).unwrap();
        let s2 = b.add_blocker(p2, "s2", "", (), 0).unwrap();
        b.start(0).unwrap();
        assert_eq!(b.waiting().collect::<Vec<_>>(), vec![s1]);
        drain(&mut b);
        let forced = b.force_all(5);
        assert_eq!(forced, vec![s1, s2], "later phases are forced too");
        assert!(b.is_finished());
        assert_eq!(b.blocker(s2).state, BlockerState::Forced);
        let ev = drain(&mut b);
        assert_eq!(ev.last(), Some(&Event::AllDone));
        assert_eq!(b.blocker(s2).state, BlockerState::Forced, "queued, but the pump skips blockers no longer waiting");
    }
}
