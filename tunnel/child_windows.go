package tunnel

import (
	"os"
	"os/exec"
	"unsafe"

	"golang.org/x/sys/windows"
)

// needsWatchdog: the job object ties the child to Hooktray.
const needsWatchdog = false

// tie starts the child in a new process group, so a console Ctrl-C meant for Hooktray is not
// also delivered to it; the job object (afterStart) does the rest.
func tie(cmd *exec.Cmd) {
	cmd.SysProcAttr = &windows.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// afterStart puts the child in a job object that kills it when the last handle to the job
// closes: when Hooktray exits or is killed, Windows closes the handle and ends cloudflared.
// release closes the handle once the child has exited.
func afterStart(cmd *exec.Cmd) (release func(), err error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return func() {}, err
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return func() {}, err
	}
	proc, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid))
	if err != nil {
		windows.CloseHandle(job)
		return func() {}, err
	}
	defer windows.CloseHandle(proc)
	if err := windows.AssignProcessToJobObject(job, proc); err != nil {
		windows.CloseHandle(job)
		return func() {}, err
	}
	return func() { windows.CloseHandle(job) }, nil
}

// stopGroup ends pid; Windows has no SIGTERM for a console-less child, so both are a kill.
func stopGroup(pid int, _ bool) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// groupAlive is false on Windows: the job object ends a wrapper's children with it.
func groupAlive(int) bool { return false }

// alive reports whether pid still runs.
func alive(pid int) bool {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h)
	ev, _ := windows.WaitForSingleObject(h, 0)
	return ev == uint32(windows.WAIT_TIMEOUT)
}
